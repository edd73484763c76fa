build-dev/fuzz/obj/src/api/health.o: src/api/health.c src/api/../kv/kv.h \
  src/api/../kv/../records.h src/api/../kv/../util/secret.h \
  src/api/../kv/../util/status.h src/api/../mail/mail.h \
  src/api/../mail/../config.h src/api/../mail/../records.h \
  src/api/../mail/../util/buf.h src/api/../media/media.h \
  src/api/../media/../config.h src/api/../store/store.h \
  src/api/../store/../records.h src/api/../store/../util/status.h \
  src/api/../util/timeutil.h src/api/api.h src/api/../http/request.h \
  src/api/../http/../app.h src/api/../kv/../config.h \
  src/api/../http/../records.h src/api/../http/../util/buf.h \
  src/api/../http/../util/workpool.h src/api/../http/form.h \
  src/api/../http/../util/status.h src/api/../http/budget.h \
  src/api/../http/server.h src/api/../http/router.h

src/api/../kv/kv.h:

src/api/../kv/../records.h:

src/api/../kv/../util/secret.h:

src/api/../kv/../util/status.h:

src/api/../mail/mail.h:

src/api/../mail/../config.h:

src/api/../mail/../records.h:

src/api/../mail/../util/buf.h:

src/api/../media/media.h:

src/api/../media/../config.h:

src/api/../store/store.h:

src/api/../store/../records.h:

src/api/../store/../util/status.h:

src/api/../util/timeutil.h:

src/api/api.h:

src/api/../http/request.h:

src/api/../http/../app.h:

src/api/../kv/../config.h:

src/api/../http/../records.h:

src/api/../http/../util/buf.h:

src/api/../http/../util/workpool.h:

src/api/../http/form.h:

src/api/../http/../util/status.h:

src/api/../http/budget.h:

src/api/../http/server.h:

src/api/../http/router.h:
