build-dev/fuzz/obj/src/api/users.o: src/api/users.c \
  src/api/../core/account.h src/api/../core/../app.h \
  src/api/../core/../config.h src/api/../core/../util/status.h \
  src/api/../core/../records.h src/api/../core/../util/secret.h \
  src/api/../core/device.h src/api/../core/session.h \
  src/api/../http/cookie.h src/api/../http/../config.h \
  src/api/../http/json_input.h src/api/../http/../util/status.h \
  src/api/../util/log.h src/api/../util/url.h src/api/api.h \
  src/api/../http/request.h src/api/../http/../app.h \
  src/api/../http/../records.h src/api/../http/../util/buf.h \
  src/api/../http/../util/workpool.h src/api/../http/form.h \
  src/api/../http/budget.h src/api/../http/server.h \
  src/api/../http/router.h

src/api/../core/account.h:

src/api/../core/../app.h:

src/api/../core/../config.h:

src/api/../core/../util/status.h:

src/api/../core/../records.h:

src/api/../core/../util/secret.h:

src/api/../core/device.h:

src/api/../core/session.h:

src/api/../http/cookie.h:

src/api/../http/../config.h:

src/api/../http/json_input.h:

src/api/../http/../util/status.h:

src/api/../util/log.h:

src/api/../util/url.h:

src/api/api.h:

src/api/../http/request.h:

src/api/../http/../app.h:

src/api/../http/../records.h:

src/api/../http/../util/buf.h:

src/api/../http/../util/workpool.h:

src/api/../http/form.h:

src/api/../http/budget.h:

src/api/../http/server.h:

src/api/../http/router.h:
