build-dev/fuzz/obj/src/util/workpool.o: src/util/workpool.c \
  src/util/workpool.h src/util/status.h src/util/log.h

src/util/workpool.h:

src/util/status.h:

src/util/log.h:
