build-dev/fuzz/obj/src/core/audit.o: src/core/audit.c src/core/audit.h \
  src/core/../app.h src/core/../config.h src/core/../util/status.h \
  src/core/../records.h src/core/../util/secret.h \
  src/core/../store/store.h src/core/../store/../records.h \
  src/core/../store/../util/status.h src/core/../util/log.h \
  src/core/../util/timeutil.h

src/core/audit.h:

src/core/../app.h:

src/core/../config.h:

src/core/../util/status.h:

src/core/../records.h:

src/core/../util/secret.h:

src/core/../store/store.h:

src/core/../store/../records.h:

src/core/../store/../util/status.h:

src/core/../util/log.h:

src/core/../util/timeutil.h:
