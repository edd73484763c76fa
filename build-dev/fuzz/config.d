build-dev/fuzz/config: fuzz/config.c src/config.h src/util/status.h \
  src/util/buf.h

src/config.h:

src/util/status.h:

src/util/buf.h:
