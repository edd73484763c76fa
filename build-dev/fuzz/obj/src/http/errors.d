build-dev/fuzz/obj/src/http/errors.o: src/http/errors.c src/http/errors.h \
  src/http/../util/status.h

src/http/errors.h:

src/http/../util/status.h:
