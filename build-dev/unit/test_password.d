build-dev/unit/test_password: tests/unit/test_password.c \
 src/core/password.h src/core/../config.h src/core/../util/status.h \
 src/core/../records.h src/core/../util/secret.h \
 src/core/../util/status.h src/core/../util/status.h \
 src/core/../util/utf8.h
src/core/password.h:
src/core/../config.h:
src/core/../util/status.h:
src/core/../records.h:
src/core/../util/secret.h:
src/core/../util/status.h:
src/core/../util/status.h:
src/core/../util/utf8.h:
