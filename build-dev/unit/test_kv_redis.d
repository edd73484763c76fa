build-dev/unit/test_kv_redis: tests/unit/test_kv_redis.c src/kv/kv.h \
 src/kv/../records.h src/kv/../util/secret.h src/kv/../util/status.h \
 src/kv/../util/status.h tests/unit/redis_server.h tests/unit/free_port.h
src/kv/kv.h:
src/kv/../records.h:
src/kv/../util/secret.h:
src/kv/../util/status.h:
src/kv/../util/status.h:
tests/unit/redis_server.h:
tests/unit/free_port.h:
