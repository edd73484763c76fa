build-dev/fuzz/obj/src/media/s3.o: src/media/s3.c src/media/../util/log.h \
  src/media/media.h src/media/../config.h src/media/../util/status.h

src/media/../util/log.h:

src/media/media.h:

src/media/../config.h:

src/media/../util/status.h:
