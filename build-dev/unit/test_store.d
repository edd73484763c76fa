build-dev/unit/test_store: tests/unit/test_store.c src/store/store.h \
 src/store/../records.h src/store/../util/secret.h \
 src/store/../util/status.h src/store/../util/status.h src/util/secret.h
src/store/store.h:
src/store/../records.h:
src/store/../util/secret.h:
src/store/../util/status.h:
src/store/../util/status.h:
src/util/secret.h:
