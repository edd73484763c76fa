build-dev/fuzz/obj/src/util/metrics.o: src/util/metrics.c \
  src/util/metrics.h src/util/buf.h src/util/status.h

src/util/metrics.h:

src/util/buf.h:

src/util/status.h:
