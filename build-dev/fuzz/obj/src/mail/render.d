build-dev/fuzz/obj/src/mail/render.o: src/mail/render.c \
  src/mail/../embed.h src/mail/../util/log.h src/mail/mail.h \
  src/mail/../config.h src/mail/../util/status.h src/mail/../records.h \
  src/mail/../util/secret.h src/mail/../util/buf.h

src/mail/../embed.h:

src/mail/../util/log.h:

src/mail/mail.h:

src/mail/../config.h:

src/mail/../util/status.h:

src/mail/../records.h:

src/mail/../util/secret.h:

src/mail/../util/buf.h:
