build-dev/fuzz/obj/src/store/store.o: src/store/store.c src/store/store.h \
  src/store/../records.h src/store/../util/secret.h \
  src/store/../util/status.h src/store/../util/log.h

src/store/store.h:

src/store/../records.h:

src/store/../util/secret.h:

src/store/../util/status.h:

src/store/../util/log.h:
