build-dev/fuzz/obj/src/util/url.o: src/util/url.c src/util/url.h

src/util/url.h:
