build-dev/fuzz/obj/src/api/media.o: src/api/media.c \
  src/api/../media/media.h src/api/../media/../config.h \
  src/api/../media/../util/status.h src/api/api.h \
  src/api/../http/request.h src/api/../http/../app.h \
  src/api/../http/../records.h src/api/../media/../util/secret.h \
  src/api/../http/../util/buf.h src/api/../http/../util/workpool.h \
  src/api/../http/form.h src/api/../http/../util/status.h \
  src/api/../http/budget.h src/api/../http/server.h \
  src/api/../http/router.h

src/api/../media/media.h:

src/api/../media/../config.h:

src/api/../media/../util/status.h:

src/api/api.h:

src/api/../http/request.h:

src/api/../http/../app.h:

src/api/../http/../records.h:

src/api/../media/../util/secret.h:

src/api/../http/../util/buf.h:

src/api/../http/../util/workpool.h:

src/api/../http/form.h:

src/api/../http/../util/status.h:

src/api/../http/budget.h:

src/api/../http/server.h:

src/api/../http/router.h:
