build-dev/unit/test_secret: tests/unit/test_secret.c src/util/secret.h \
 src/util/status.h
src/util/secret.h:
src/util/status.h:
