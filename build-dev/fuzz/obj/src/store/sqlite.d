build-dev/fuzz/obj/src/store/sqlite.o: src/store/sqlite.c \
  src/store/../embed.h src/store/../util/log.h src/store/store.h \
  src/store/../records.h src/store/../util/secret.h \
  src/store/../util/status.h

src/store/../embed.h:

src/store/../util/log.h:

src/store/store.h:

src/store/../records.h:

src/store/../util/secret.h:

src/store/../util/status.h:
