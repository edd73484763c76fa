build-dev/unit/test_store_contract: tests/unit/test_store_contract.c \
 tests/unit/pg_cluster.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h tests/unit/free_port.h \
 src/store/store.h src/store/../records.h src/store/../util/secret.h \
 src/store/../util/status.h src/store/../util/status.h src/util/secret.h
tests/unit/pg_cluster.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
tests/unit/free_port.h:
src/store/store.h:
src/store/../records.h:
src/store/../util/secret.h:
src/store/../util/status.h:
src/store/../util/status.h:
src/util/secret.h:
