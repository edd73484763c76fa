build-dev/unit/test_jwt: tests/unit/test_jwt.c src/core/jwt.h \
 src/core/../util/status.h
src/core/jwt.h:
src/core/../util/status.h:
