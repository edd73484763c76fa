build-dev/fuzz/obj/src/core/onetime.o: src/core/onetime.c \
  src/core/onetime.h src/core/../store/store.h \
  src/core/../store/../records.h src/core/../store/../util/secret.h \
  src/core/../store/../util/status.h src/core/../util/timeutil.h

src/core/onetime.h:

src/core/../store/store.h:

src/core/../store/../records.h:

src/core/../store/../util/secret.h:

src/core/../store/../util/status.h:

src/core/../util/timeutil.h:
