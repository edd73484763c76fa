build-dev/unit/test_kv_contract: tests/unit/test_kv_contract.c \
 src/kv/kv.h src/kv/../records.h src/kv/../util/secret.h \
 src/kv/../util/status.h src/kv/../util/status.h \
 tests/unit/redis_server.h tests/unit/free_port.h src/store/store.h \
 src/store/../records.h src/store/../util/status.h src/util/secret.h
src/kv/kv.h:
src/kv/../records.h:
src/kv/../util/secret.h:
src/kv/../util/status.h:
src/kv/../util/status.h:
tests/unit/redis_server.h:
tests/unit/free_port.h:
src/store/store.h:
src/store/../records.h:
src/store/../util/status.h:
src/util/secret.h:
