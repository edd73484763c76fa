build-dev/fuzz/obj/src/mail/outbox.o: src/mail/outbox.c \
  src/mail/../store/store.h src/mail/../store/../records.h \
  src/mail/../store/../util/secret.h src/mail/../store/../util/status.h \
  src/mail/../util/log.h src/mail/../util/timeutil.h src/mail/mail.h \
  src/mail/../config.h src/mail/../records.h src/mail/../util/buf.h

src/mail/../store/store.h:

src/mail/../store/../records.h:

src/mail/../store/../util/secret.h:

src/mail/../store/../util/status.h:

src/mail/../util/log.h:

src/mail/../util/timeutil.h:

src/mail/mail.h:

src/mail/../config.h:

src/mail/../records.h:

src/mail/../util/buf.h:
