build-dev/fuzz/obj/src/config.o: src/config.c src/config.h \
  src/util/status.h src/util/buf.h src/util/secret.h

src/config.h:

src/util/status.h:

src/util/buf.h:

src/util/secret.h:
