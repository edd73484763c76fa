build-dev/fuzz/obj/src/mail/file.o: src/mail/file.c src/mail/../util/fs.h \
  src/mail/../util/status.h src/mail/../util/log.h src/mail/mail.h \
  src/mail/../config.h src/mail/../records.h src/mail/../util/secret.h \
  src/mail/../util/buf.h

src/mail/../util/fs.h:

src/mail/../util/status.h:

src/mail/../util/log.h:

src/mail/mail.h:

src/mail/../config.h:

src/mail/../records.h:

src/mail/../util/secret.h:

src/mail/../util/buf.h:
