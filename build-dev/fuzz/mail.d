build-dev/fuzz/mail: fuzz/mail.c src/config.h src/util/status.h \
  src/core/email.h src/core/../util/status.h src/core/../records.h \
  src/util/secret.h src/records.h src/core/password.h \
  src/core/../config.h src/core/../util/utf8.h src/mail/mail.h \
  src/mail/../config.h src/mail/../records.h src/mail/../util/buf.h

src/config.h:

src/util/status.h:

src/core/email.h:

src/core/../util/status.h:

src/core/../records.h:

src/util/secret.h:

src/records.h:

src/core/password.h:

src/core/../config.h:

src/core/../util/utf8.h:

src/mail/mail.h:

src/mail/../config.h:

src/mail/../records.h:

src/mail/../util/buf.h:
