build-dev/fuzz/obj/src/core/email.o: src/core/email.c src/core/email.h \
  src/core/../util/status.h src/core/../records.h \
  src/core/../util/secret.h src/core/../util/utf8.h src/core/password.h \
  src/core/../config.h

src/core/email.h:

src/core/../util/status.h:

src/core/../records.h:

src/core/../util/secret.h:

src/core/../util/utf8.h:

src/core/password.h:

src/core/../config.h:
