build-dev/fuzz/obj/src/util/jsonw.o: src/util/jsonw.c src/util/jsonw.h \
  src/util/buf.h src/util/status.h

src/util/jsonw.h:

src/util/buf.h:

src/util/status.h:
