build-dev/unit/test_store_postgres: tests/unit/test_store_postgres.c \
 /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h src/store/store.h \
 src/store/../records.h src/store/../util/secret.h \
 src/store/../util/status.h src/store/../util/status.h src/util/secret.h
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
src/store/store.h:
src/store/../records.h:
src/store/../util/secret.h:
src/store/../util/status.h:
src/store/../util/status.h:
src/util/secret.h:
