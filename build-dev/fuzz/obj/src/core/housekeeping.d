build-dev/fuzz/obj/src/core/housekeeping.o: src/core/housekeeping.c \
  src/core/housekeeping.h src/core/../app.h src/core/../config.h \
  src/core/../util/status.h src/core/../store/store.h \
  src/core/../store/../records.h src/core/../util/secret.h \
  src/core/../store/../util/status.h src/core/../util/log.h \
  src/core/../util/timeutil.h

src/core/housekeeping.h:

src/core/../app.h:

src/core/../config.h:

src/core/../util/status.h:

src/core/../store/store.h:

src/core/../store/../records.h:

src/core/../util/secret.h:

src/core/../store/../util/status.h:

src/core/../util/log.h:

src/core/../util/timeutil.h:
