build-dev/unit/test_wipe: tests/unit/test_wipe.c src/util/buf.h \
 src/util/status.h src/util/secret.h
src/util/buf.h:
src/util/status.h:
src/util/secret.h:
