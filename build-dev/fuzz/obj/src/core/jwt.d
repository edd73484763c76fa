build-dev/fuzz/obj/src/core/jwt.o: src/core/jwt.c src/core/jwt.h \
  src/core/../util/status.h

src/core/jwt.h:

src/core/../util/status.h:
