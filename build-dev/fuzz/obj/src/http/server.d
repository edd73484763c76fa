build-dev/fuzz/obj/src/http/server.o: src/http/server.c src/http/server.h \
  src/http/../app.h src/http/../config.h src/http/../util/status.h \
  src/http/router.h src/http/request.h src/http/../records.h \
  src/http/../util/secret.h src/http/../util/buf.h \
  src/http/../util/workpool.h src/http/form.h src/http/budget.h \
  src/http/../util/log.h src/http/../util/metrics.h \
  src/http/../util/timeutil.h src/http/guard.h

src/http/server.h:

src/http/../app.h:

src/http/../config.h:

src/http/../util/status.h:

src/http/router.h:

src/http/request.h:

src/http/../records.h:

src/http/../util/secret.h:

src/http/../util/buf.h:

src/http/../util/workpool.h:

src/http/form.h:

src/http/budget.h:

src/http/../util/log.h:

src/http/../util/metrics.h:

src/http/../util/timeutil.h:

src/http/guard.h:
