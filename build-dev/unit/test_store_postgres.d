build-dev/unit/test_store_postgres: tests/unit/test_store_postgres.c \
 tests/unit/pg_cluster.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h tests/unit/free_port.h \
 src/store/postgres/postgres.h src/store/postgres/../sql.h \
 src/store/postgres/../../records.h \
 src/store/postgres/../../util/secret.h \
 src/store/postgres/../../util/status.h \
 src/store/postgres/../../util/status.h \
 src/store/postgres/../../util/thread_conn.h \
 src/store/postgres/../store.h src/store/postgres/../store.h \
 src/store/store.h src/util/secret.h
tests/unit/pg_cluster.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
tests/unit/free_port.h:
src/store/postgres/postgres.h:
src/store/postgres/../sql.h:
src/store/postgres/../../records.h:
src/store/postgres/../../util/secret.h:
src/store/postgres/../../util/status.h:
src/store/postgres/../../util/status.h:
src/store/postgres/../../util/thread_conn.h:
src/store/postgres/../store.h:
src/store/postgres/../store.h:
src/store/store.h:
src/util/secret.h:
