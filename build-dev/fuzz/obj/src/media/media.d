build-dev/fuzz/obj/src/media/media.o: src/media/media.c src/media/media.h \
  src/media/../config.h src/media/../util/status.h

src/media/media.h:

src/media/../config.h:

src/media/../util/status.h:
