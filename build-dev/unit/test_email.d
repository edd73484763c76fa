build-dev/unit/test_email: tests/unit/test_email.c src/core/email.h \
 src/core/../util/status.h src/core/../records.h \
 src/core/../util/secret.h src/core/../util/status.h
src/core/email.h:
src/core/../util/status.h:
src/core/../records.h:
src/core/../util/secret.h:
src/core/../util/status.h:
