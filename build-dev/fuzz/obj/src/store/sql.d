build-dev/fuzz/obj/src/store/sql.o: src/store/sql.c src/store/sql.h \
  src/store/../records.h src/store/../util/secret.h \
  src/store/../util/status.h src/store/../util/thread_conn.h \
  src/store/store.h src/store/../util/log.h

src/store/sql.h:

src/store/../records.h:

src/store/../util/secret.h:

src/store/../util/status.h:

src/store/../util/thread_conn.h:

src/store/store.h:

src/store/../util/log.h:
