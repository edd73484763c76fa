build-dev/fuzz/validators: fuzz/validators.c src/core/email.h \
  src/core/../util/status.h src/core/../records.h src/util/secret.h \
  src/records.h src/core/password.h src/core/../config.h \
  src/util/status.h src/core/../util/utf8.h src/core/profile.h \
  src/core/../app.h src/config.h src/media/media.h src/media/../config.h

src/core/email.h:

src/core/../util/status.h:

src/core/../records.h:

src/util/secret.h:

src/records.h:

src/core/password.h:

src/core/../config.h:

src/util/status.h:

src/core/../util/utf8.h:

src/core/profile.h:

src/core/../app.h:

src/config.h:

src/media/media.h:

src/media/../config.h:
