build-dev/unit/test_redirect: tests/unit/test_redirect.c src/api/api.h \
 src/api/../http/request.h src/api/../http/../app.h \
 src/api/../http/../config.h src/api/../http/../util/status.h \
 src/api/../http/../records.h src/api/../http/../util/secret.h \
 src/api/../http/../util/status.h src/api/../http/../util/buf.h \
 src/api/../http/../util/workpool.h src/api/../http/form.h \
 src/api/../http/../util/status.h src/api/../http/budget.h \
 src/api/../http/server.h src/api/../http/router.h \
 src/api/../http/request.h src/util/url.h
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
src/util/url.h:
