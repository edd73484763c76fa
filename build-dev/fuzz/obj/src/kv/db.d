build-dev/fuzz/obj/src/kv/db.o: src/kv/db.c src/kv/../config.h \
  src/kv/../util/status.h src/kv/../store/store.h \
  src/kv/../store/../records.h src/kv/../util/secret.h \
  src/kv/../store/../util/status.h src/kv/kv.h src/kv/../records.h

src/kv/../config.h:

src/kv/../util/status.h:

src/kv/../store/store.h:

src/kv/../store/../records.h:

src/kv/../util/secret.h:

src/kv/../store/../util/status.h:

src/kv/kv.h:

src/kv/../records.h:
