build-dev/unit/test_onetime: tests/unit/test_onetime.c src/core/onetime.h \
 src/core/../store/store.h src/core/../store/../records.h \
 src/core/../store/../util/secret.h src/core/../store/../util/status.h \
 src/core/../store/../util/status.h src/util/timeutil.h
src/core/onetime.h:
src/core/../store/store.h:
src/core/../store/../records.h:
src/core/../store/../util/secret.h:
src/core/../store/../util/status.h:
src/core/../store/../util/status.h:
src/util/timeutil.h:
