build-dev/fuzz/obj/src/http/form.o: src/http/form.c src/http/form.h \
  src/http/../util/buf.h src/http/../util/status.h src/http/budget.h

src/http/form.h:

src/http/../util/buf.h:

src/http/../util/status.h:

src/http/budget.h:
