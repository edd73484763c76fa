build-dev/unit/test_mail: tests/unit/test_mail.c src/mail/mail.h \
 src/mail/../config.h src/mail/../util/status.h src/mail/../records.h \
 src/mail/../util/secret.h src/mail/../util/status.h \
 src/mail/../util/buf.h
src/mail/mail.h:
src/mail/../config.h:
src/mail/../util/status.h:
src/mail/../records.h:
src/mail/../util/secret.h:
src/mail/../util/status.h:
src/mail/../util/buf.h:
