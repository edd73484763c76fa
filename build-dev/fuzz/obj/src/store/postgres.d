build-dev/fuzz/obj/src/store/postgres.o: src/store/postgres.c \
  /usr/include/postgresql/libpq-fe.h \
  /usr/include/postgresql/postgres_ext.h \
  /usr/include/postgresql/pg_config_ext.h src/store/../embed.h \
  src/store/../util/log.h src/store/store.h src/store/../records.h \
  src/store/../util/secret.h src/store/../util/status.h

/usr/include/postgresql/libpq-fe.h:

/usr/include/postgresql/postgres_ext.h:

/usr/include/postgresql/pg_config_ext.h:

src/store/../embed.h:

src/store/../util/log.h:

src/store/store.h:

src/store/../records.h:

src/store/../util/secret.h:

src/store/../util/status.h:
