build-dev/fuzz/obj/src/mail/message.o: src/mail/message.c \
  src/mail/../util/secret.h src/mail/../util/status.h src/mail/mail.h \
  src/mail/../config.h src/mail/../records.h src/mail/../util/buf.h

src/mail/../util/secret.h:

src/mail/../util/status.h:

src/mail/mail.h:

src/mail/../config.h:

src/mail/../records.h:

src/mail/../util/buf.h:
