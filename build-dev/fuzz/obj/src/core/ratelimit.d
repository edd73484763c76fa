build-dev/fuzz/obj/src/core/ratelimit.o: src/core/ratelimit.c \
  src/core/ratelimit.h src/core/../app.h src/core/../config.h \
  src/core/../util/status.h src/core/../records.h \
  src/core/../util/secret.h src/core/../kv/kv.h \
  src/core/../kv/../records.h src/core/../kv/../util/status.h \
  src/core/audit.h src/core/device.h src/core/../util/log.h \
  src/core/../util/timeutil.h

src/core/ratelimit.h:

src/core/../app.h:

src/core/../config.h:

src/core/../util/status.h:

src/core/../records.h:

src/core/../util/secret.h:

src/core/../kv/kv.h:

src/core/../kv/../records.h:

src/core/../kv/../util/status.h:

src/core/audit.h:

src/core/device.h:

src/core/../util/log.h:

src/core/../util/timeutil.h:
