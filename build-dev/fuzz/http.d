build-dev/fuzz/http: fuzz/http.c src/api/api.h src/api/../http/request.h \
  src/api/../http/../app.h src/config.h src/util/status.h \
  src/api/../http/../records.h src/util/secret.h \
  src/api/../http/../util/buf.h src/api/../http/../util/workpool.h \
  src/api/../http/form.h src/api/../http/../util/status.h \
  src/api/../http/budget.h src/api/../http/server.h \
  src/api/../http/router.h src/app.h src/core/account.h \
  src/core/../app.h src/core/../records.h src/core/password.h \
  src/core/../config.h src/core/../util/status.h src/core/../util/utf8.h \
  src/http/server.h src/kv/kv.h src/kv/../records.h \
  src/kv/../util/status.h src/mail/mail.h src/mail/../config.h \
  src/mail/../records.h src/mail/../util/buf.h src/media/media.h \
  src/media/../config.h src/store/store.h src/store/../records.h \
  src/store/../util/status.h src/util/fs.h src/util/log.h \
  src/util/timeutil.h

src/api/api.h:

src/api/../http/request.h:

src/api/../http/../app.h:

src/config.h:

src/util/status.h:

src/api/../http/../records.h:

src/util/secret.h:

src/api/../http/../util/buf.h:

src/api/../http/../util/workpool.h:

src/api/../http/form.h:

src/api/../http/../util/status.h:

src/api/../http/budget.h:

src/api/../http/server.h:

src/api/../http/router.h:

src/app.h:

src/core/account.h:

src/core/../app.h:

src/core/../records.h:

src/core/password.h:

src/core/../config.h:

src/core/../util/status.h:

src/core/../util/utf8.h:

src/http/server.h:

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

src/util/timeutil.h:
