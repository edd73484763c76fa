build-dev/obj/src/store/postgres/ratelimit.o: \
 src/store/postgres/ratelimit.c src/store/postgres/postgres.h \
 src/store/postgres/../sql.h src/store/postgres/../../records.h \
 src/store/postgres/../../util/secret.h \
 src/store/postgres/../../util/status.h \
 src/store/postgres/../../util/status.h \
 src/store/postgres/../../util/thread_conn.h \
 src/store/postgres/../store.h src/store/postgres/../store.h
src/store/postgres/postgres.h:
src/store/postgres/../sql.h:
src/store/postgres/../../records.h:
src/store/postgres/../../util/secret.h:
src/store/postgres/../../util/status.h:
src/store/postgres/../../util/status.h:
src/store/postgres/../../util/thread_conn.h:
src/store/postgres/../store.h:
src/store/postgres/../store.h:
