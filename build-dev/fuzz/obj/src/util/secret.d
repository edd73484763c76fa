build-dev/fuzz/obj/src/util/secret.o: src/util/secret.c src/util/secret.h \
  src/util/status.h

src/util/secret.h:

src/util/status.h:
