build-dev/obj/src/kv/redis.o: src/kv/redis.c src/kv/../store/store.h \
 src/kv/../store/../records.h src/kv/../store/../util/secret.h \
 src/kv/../store/../util/status.h src/kv/../store/../util/status.h \
 src/kv/../util/log.h src/kv/../util/thread_conn.h \
 src/kv/../util/status.h src/kv/kv.h src/kv/../records.h \
 src/kv/../util/status.h
src/kv/../store/store.h:
src/kv/../store/../records.h:
src/kv/../store/../util/secret.h:
src/kv/../store/../util/status.h:
src/kv/../store/../util/status.h:
src/kv/../util/log.h:
src/kv/../util/thread_conn.h:
src/kv/../util/status.h:
src/kv/kv.h:
src/kv/../records.h:
src/kv/../util/status.h:
