build-dev/fuzz/obj/src/util/fs.o: src/util/fs.c src/util/fs.h \
  src/util/status.h src/util/secret.h

src/util/fs.h:

src/util/status.h:

src/util/secret.h:
