build-dev/fuzz/obj/src/core/profile.o: src/core/profile.c \
  src/core/profile.h src/core/../app.h src/core/../config.h \
  src/core/../util/status.h src/core/../records.h \
  src/core/../util/secret.h src/core/../media/media.h \
  src/core/../media/../config.h src/core/../store/store.h \
  src/core/../store/../records.h src/core/../store/../util/status.h \
  src/core/audit.h src/core/email.h

src/core/profile.h:

src/core/../app.h:

src/core/../config.h:

src/core/../util/status.h:

src/core/../records.h:

src/core/../util/secret.h:

src/core/../media/media.h:

src/core/../media/../config.h:

src/core/../store/store.h:

src/core/../store/../records.h:

src/core/../store/../util/status.h:

src/core/audit.h:

src/core/email.h:
