build-dev/fuzz/obj/src/util/buf.o: src/util/buf.c src/util/buf.h \
  src/util/status.h

src/util/buf.h:

src/util/status.h:
