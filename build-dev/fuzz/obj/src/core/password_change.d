build-dev/fuzz/obj/src/core/password_change.o: src/core/password_change.c \
  src/core/password_change.h src/core/../app.h src/core/../config.h \
  src/core/../util/status.h src/core/../records.h \
  src/core/../util/secret.h src/core/../mail/mail.h \
  src/core/../mail/../config.h src/core/../mail/../records.h \
  src/core/../mail/../util/buf.h src/core/../kv/kv.h \
  src/core/../kv/../records.h src/core/../kv/../util/status.h \
  src/core/../store/store.h src/core/../store/../records.h \
  src/core/../store/../util/status.h src/core/../util/log.h \
  src/core/../util/timeutil.h src/core/audit.h src/core/email.h \
  src/core/mailer.h src/core/onetime.h src/core/password.h \
  src/core/../util/utf8.h src/core/ratelimit.h

src/core/password_change.h:

src/core/../app.h:

src/core/../config.h:

src/core/../util/status.h:

src/core/../records.h:

src/core/../util/secret.h:

src/core/../mail/mail.h:

src/core/../mail/../config.h:

src/core/../mail/../records.h:

src/core/../mail/../util/buf.h:

src/core/../kv/kv.h:

src/core/../kv/../records.h:

src/core/../kv/../util/status.h:

src/core/../store/store.h:

src/core/../store/../records.h:

src/core/../store/../util/status.h:

src/core/../util/log.h:

src/core/../util/timeutil.h:

src/core/audit.h:

src/core/email.h:

src/core/mailer.h:

src/core/onetime.h:

src/core/password.h:

src/core/../util/utf8.h:

src/core/ratelimit.h:
