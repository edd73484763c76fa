build-dev/unit/test_device: tests/unit/test_device.c src/app.h \
 src/config.h src/util/status.h src/core/device.h src/core/../app.h \
 src/store/store.h src/store/../records.h src/store/../util/secret.h \
 src/store/../util/status.h src/store/../util/status.h
src/app.h:
src/config.h:
src/util/status.h:
src/core/device.h:
src/core/../app.h:
src/store/store.h:
src/store/../records.h:
src/store/../util/secret.h:
src/store/../util/status.h:
src/store/../util/status.h:
