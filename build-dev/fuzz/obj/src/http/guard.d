build-dev/fuzz/obj/src/http/guard.o: src/http/guard.c src/http/guard.h \
  src/http/../config.h src/http/../util/status.h src/http/../util/log.h \
  src/http/../util/metrics.h src/http/../util/buf.h \
  src/http/../util/timeutil.h

src/http/guard.h:

src/http/../config.h:

src/http/../util/status.h:

src/http/../util/log.h:

src/http/../util/metrics.h:

src/http/../util/buf.h:

src/http/../util/timeutil.h:
