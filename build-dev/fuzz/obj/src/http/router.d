build-dev/fuzz/obj/src/http/router.o: src/http/router.c src/http/router.h \
  src/http/request.h src/http/../app.h src/http/../config.h \
  src/http/../util/status.h src/http/../records.h \
  src/http/../util/secret.h src/http/../util/buf.h \
  src/http/../util/workpool.h src/http/form.h src/http/budget.h

src/http/router.h:

src/http/request.h:

src/http/../app.h:

src/http/../config.h:

src/http/../util/status.h:

src/http/../records.h:

src/http/../util/secret.h:

src/http/../util/buf.h:

src/http/../util/workpool.h:

src/http/form.h:

src/http/budget.h:
