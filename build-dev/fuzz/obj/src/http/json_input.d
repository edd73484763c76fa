build-dev/fuzz/obj/src/http/json_input.o: src/http/json_input.c \
  src/http/json_input.h src/http/../util/status.h \
  src/http/../util/utf8.h

src/http/json_input.h:

src/http/../util/status.h:

src/http/../util/utf8.h:
