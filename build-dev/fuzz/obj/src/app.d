build-dev/fuzz/obj/src/app.o: src/app.c src/app.h src/config.h \
  src/util/status.h src/core/device.h src/core/../app.h \
  src/core/housekeeping.h src/core/mailer.h src/core/../records.h \
  src/util/secret.h src/core/password.h src/core/../config.h \
  src/core/../util/status.h src/core/../util/utf8.h src/kv/kv.h \
  src/kv/../records.h src/kv/../util/status.h src/mail/mail.h \
  src/mail/../config.h src/mail/../records.h src/mail/../util/buf.h \
  src/media/media.h src/media/../config.h src/store/store.h \
  src/store/../records.h src/store/../util/status.h src/util/fs.h \
  src/util/log.h src/util/workpool.h

src/app.h:

src/config.h:

src/util/status.h:

src/core/device.h:

src/core/../app.h:

src/core/housekeeping.h:

src/core/mailer.h:

src/core/../records.h:

src/util/secret.h:

src/core/password.h:

src/core/../config.h:

src/core/../util/status.h:

src/core/../util/utf8.h:

src/kv/kv.h:

src/kv/../records.h:

src/kv/../util/status.h:

src/mail/mail.h:

src/mail/../config.h:

src/mail/../records.h:

src/mail/../util/buf.h:

src/media/media.h:

src/media/../config.h:

src/store/store.h:

src/store/../records.h:

src/store/../util/status.h:

src/util/fs.h:

src/util/log.h:

src/util/workpool.h:
