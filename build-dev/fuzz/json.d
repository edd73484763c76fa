build-dev/fuzz/json: fuzz/json.c src/api/api.h src/api/../http/request.h \
  src/api/../http/../app.h src/config.h src/util/status.h \
  src/api/../http/../records.h src/util/secret.h \
  src/api/../http/../util/buf.h src/api/../http/../util/workpool.h \
  src/api/../http/form.h src/api/../http/../util/status.h \
  src/api/../http/budget.h src/api/../http/server.h \
  src/api/../http/router.h src/records.h src/core/password.h \
  src/core/../config.h src/core/../records.h src/core/../util/status.h \
  src/core/../util/utf8.h src/http/json_input.h

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

src/records.h:

src/core/password.h:

src/core/../config.h:

src/core/../records.h:

src/core/../util/status.h:

src/core/../util/utf8.h:

src/http/json_input.h:
