build-dev/fuzz/obj/src/api/profile.o: src/api/profile.c \
  src/api/../core/profile.h src/api/../core/../app.h \
  src/api/../core/../config.h src/api/../core/../util/status.h \
  src/api/../core/../records.h src/api/../core/../util/secret.h \
  src/api/api.h src/api/../http/request.h src/api/../http/../app.h \
  src/api/../http/../records.h src/api/../http/../util/buf.h \
  src/api/../http/../util/workpool.h src/api/../http/form.h \
  src/api/../http/../util/status.h src/api/../http/budget.h \
  src/api/../http/server.h src/api/../http/router.h

src/api/../core/profile.h:

src/api/../core/../app.h:

src/api/../core/../config.h:

src/api/../core/../util/status.h:

src/api/../core/../records.h:

src/api/../core/../util/secret.h:

src/api/api.h:

src/api/../http/request.h:

src/api/../http/../app.h:

src/api/../http/../records.h:

src/api/../http/../util/buf.h:

src/api/../http/../util/workpool.h:

src/api/../http/form.h:

src/api/../http/../util/status.h:

src/api/../http/budget.h:

src/api/../http/server.h:

src/api/../http/router.h:
