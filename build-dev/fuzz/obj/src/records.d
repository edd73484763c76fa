build-dev/fuzz/obj/src/records.o: src/records.c src/records.h \
  src/util/secret.h src/util/status.h

src/records.h:

src/util/secret.h:

src/util/status.h:
