build-dev/fuzz/obj/src/api/metrics.o: src/api/metrics.c \
  src/api/../util/workpool.h src/api/../util/status.h \
  src/api/../http/router.h src/api/../http/request.h \
  src/api/../http/../app.h src/api/../http/../config.h \
  src/api/../http/../util/status.h src/api/../http/../records.h \
  src/api/../http/../util/secret.h src/api/../http/../util/buf.h \
  src/api/../http/../util/workpool.h src/api/../http/form.h \
  src/api/../http/budget.h src/api/../store/store.h \
  src/api/../store/../records.h src/api/../store/../util/status.h \
  src/api/../util/metrics.h src/api/../util/buf.h src/api/api.h \
  src/api/../http/server.h

src/api/../util/workpool.h:

src/api/../util/status.h:

src/api/../http/router.h:

src/api/../http/request.h:

src/api/../http/../app.h:

src/api/../http/../config.h:

src/api/../http/../util/status.h:

src/api/../http/../records.h:

src/api/../http/../util/secret.h:

src/api/../http/../util/buf.h:

src/api/../http/../util/workpool.h:

src/api/../http/form.h:

src/api/../http/budget.h:

src/api/../store/store.h:

src/api/../store/../records.h:

src/api/../store/../util/status.h:

src/api/../util/metrics.h:

src/api/../util/buf.h:

src/api/api.h:

src/api/../http/server.h:
