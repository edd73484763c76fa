build-dev/fuzz/obj/src/http/cookie.o: src/http/cookie.c src/http/cookie.h \
  src/http/../config.h src/http/../util/status.h

src/http/cookie.h:

src/http/../config.h:

src/http/../util/status.h:
