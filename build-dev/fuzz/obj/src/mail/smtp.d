build-dev/fuzz/obj/src/mail/smtp.o: src/mail/smtp.c src/mail/mail.h \
  src/mail/../config.h src/mail/../util/status.h src/mail/../records.h \
  src/mail/../util/secret.h src/mail/../util/buf.h

src/mail/mail.h:

src/mail/../config.h:

src/mail/../util/status.h:

src/mail/../records.h:

src/mail/../util/secret.h:

src/mail/../util/buf.h:
