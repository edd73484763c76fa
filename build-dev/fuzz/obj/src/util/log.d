build-dev/fuzz/obj/src/util/log.o: src/util/log.c src/util/log.h \
  src/util/timeutil.h

src/util/log.h:

src/util/timeutil.h:
