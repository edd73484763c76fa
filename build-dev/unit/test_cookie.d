build-dev/unit/test_cookie: tests/unit/test_cookie.c src/config.h \
 src/util/status.h tests/unit/config_table.h src/http/cookie.h \
 src/http/../config.h
src/config.h:
src/util/status.h:
tests/unit/config_table.h:
src/http/cookie.h:
src/http/../config.h:
