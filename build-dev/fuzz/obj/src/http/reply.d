build-dev/fuzz/obj/src/http/reply.o: src/http/reply.c \
  src/http/../util/log.h src/http/cookie.h src/http/../config.h \
  src/http/../util/status.h src/http/errors.h src/http/request.h \
  src/http/../app.h src/http/../records.h src/http/../util/secret.h \
  src/http/../util/buf.h src/http/../util/workpool.h src/http/form.h \
  src/http/budget.h

src/http/../util/log.h:

src/http/cookie.h:

src/http/../config.h:

src/http/../util/status.h:

src/http/errors.h:

src/http/request.h:

src/http/../app.h:

src/http/../records.h:

src/http/../util/secret.h:

src/http/../util/buf.h:

src/http/../util/workpool.h:

src/http/form.h:

src/http/budget.h:
