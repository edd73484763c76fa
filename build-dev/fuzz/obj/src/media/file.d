build-dev/fuzz/obj/src/media/file.o: src/media/file.c \
  src/media/../util/fs.h src/media/../util/status.h \
  src/media/../util/log.h src/media/media.h src/media/../config.h

src/media/../util/fs.h:

src/media/../util/status.h:

src/media/../util/log.h:

src/media/media.h:

src/media/../config.h:
