build-dev/obj/src/store/sqlite/conn.o: src/store/sqlite/conn.c \
 src/store/sqlite/../../embed.h src/store/sqlite/../../util/log.h \
 src/store/sqlite/sqlite.h src/store/sqlite/../sql.h \
 src/store/sqlite/../../records.h src/store/sqlite/../../util/secret.h \
 src/store/sqlite/../../util/status.h \
 src/store/sqlite/../../util/status.h \
 src/store/sqlite/../../util/thread_conn.h src/store/sqlite/../store.h \
 src/store/sqlite/../store.h
src/store/sqlite/../../embed.h:
src/store/sqlite/../../util/log.h:
src/store/sqlite/sqlite.h:
src/store/sqlite/../sql.h:
src/store/sqlite/../../records.h:
src/store/sqlite/../../util/secret.h:
src/store/sqlite/../../util/status.h:
src/store/sqlite/../../util/status.h:
src/store/sqlite/../../util/thread_conn.h:
src/store/sqlite/../store.h:
src/store/sqlite/../store.h:
