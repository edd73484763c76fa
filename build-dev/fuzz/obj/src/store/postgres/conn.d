build-dev/fuzz/obj/src/store/postgres/conn.o: src/store/postgres/conn.c \
  /usr/include/postgresql/libpq-fe.h \
  /usr/include/postgresql/postgres_ext.h \
  /usr/include/postgresql/pg_config_ext.h \
  src/store/postgres/../../embed.h src/store/postgres/../../util/log.h \
  src/store/postgres/postgres.h src/store/postgres/../sql.h \
  src/store/postgres/../../records.h \
  src/store/postgres/../../util/secret.h \
  src/store/postgres/../../util/status.h \
  src/store/postgres/../../util/thread_conn.h \
  src/store/postgres/../store.h

/usr/include/postgresql/libpq-fe.h:

/usr/include/postgresql/postgres_ext.h:

/usr/include/postgresql/pg_config_ext.h:

src/store/postgres/../../embed.h:

src/store/postgres/../../util/log.h:

src/store/postgres/postgres.h:

src/store/postgres/../sql.h:

src/store/postgres/../../records.h:

src/store/postgres/../../util/secret.h:

src/store/postgres/../../util/status.h:

src/store/postgres/../../util/thread_conn.h:

src/store/postgres/../store.h:
