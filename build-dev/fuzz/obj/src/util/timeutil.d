build-dev/fuzz/obj/src/util/timeutil.o: src/util/timeutil.c \
  src/util/timeutil.h

src/util/timeutil.h:
