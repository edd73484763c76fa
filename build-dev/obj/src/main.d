build-dev/obj/src/main.o: src/main.c src/api/api.h \
 src/api/../http/request.h src/api/../http/../app.h \
 src/api/../http/../config.h src/api/../http/../util/status.h \
 src/api/../http/../records.h src/api/../http/../util/secret.h \
 src/api/../http/../util/status.h src/api/../http/../util/buf.h \
 src/api/../http/../util/workpool.h src/api/../http/form.h \
 src/api/../http/../util/status.h src/api/../http/budget.h \
 src/api/../http/server.h src/api/../http/router.h \
 src/api/../http/request.h src/app.h src/config.h src/core/account.h \
 src/core/../app.h src/core/../records.h src/core/device.h \
 src/core/mailer.h src/core/password.h src/core/../config.h \
 src/core/../util/status.h src/core/../util/utf8.h src/http/router.h \
 src/http/server.h src/kv/kv.h src/kv/../records.h \
 src/kv/../util/status.h src/media/media.h src/media/../config.h \
 src/mail/mail.h src/mail/../config.h src/mail/../records.h \
 src/mail/../util/buf.h src/store/store.h src/store/../records.h \
 src/store/../util/status.h src/util/buf.h src/util/fs.h \
 src/util/status.h src/util/log.h src/util/secret.h src/util/timeutil.h \
 src/util/workpool.h
src/api/api.h:
src/api/../http/request.h:
src/api/../http/../app.h:
src/api/../http/../config.h:
src/api/../http/../util/status.h:
src/api/../http/../records.h:
src/api/../http/../util/secret.h:
src/api/../http/../util/status.h:
src/api/../http/../util/buf.h:
src/api/../http/../util/workpool.h:
src/api/../http/form.h:
src/api/../http/../util/status.h:
src/api/../http/budget.h:
src/api/../http/server.h:
src/api/../http/router.h:
src/api/../http/request.h:
src/app.h:
src/config.h:
src/core/account.h:
src/core/../app.h:
src/core/../records.h:
src/core/device.h:
src/core/mailer.h:
src/core/password.h:
src/core/../config.h:
src/core/../util/status.h:
src/core/../util/utf8.h:
src/http/router.h:
src/http/server.h:
src/kv/kv.h:
src/kv/../records.h:
src/kv/../util/status.h:
src/media/media.h:
src/media/../config.h:
src/mail/mail.h:
src/mail/../config.h:
src/mail/../records.h:
src/mail/../util/buf.h:
src/store/store.h:
src/store/../records.h:
src/store/../util/status.h:
src/util/buf.h:
src/util/fs.h:
src/util/status.h:
src/util/log.h:
src/util/secret.h:
src/util/timeutil.h:
src/util/workpool.h:
