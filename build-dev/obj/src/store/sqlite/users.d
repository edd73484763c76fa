build-dev/obj/src/store/sqlite/users.o: src/store/sqlite/users.c \
 src/store/sqlite/sqlite.h src/store/sqlite/../sql.h \
 src/store/sqlite/../../records.h src/store/sqlite/../../util/secret.h \
 src/store/sqlite/../../util/status.h \
 src/store/sqlite/../../util/status.h \
 src/store/sqlite/../../util/thread_conn.h src/store/sqlite/../store.h \
 src/store/sqlite/../store.h
src/store/sqlite/sqlite.h:
src/store/sqlite/../sql.h:
src/store/sqlite/../../records.h:
src/store/sqlite/../../util/secret.h:
src/store/sqlite/../../util/status.h:
src/store/sqlite/../../util/status.h:
src/store/sqlite/../../util/thread_conn.h:
src/store/sqlite/../store.h:
src/store/sqlite/../store.h:
