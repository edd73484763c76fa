build-dev/fuzz/obj/src/web/web.o: src/web/web.c src/web/web.h

src/web/web.h:
