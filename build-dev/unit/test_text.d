build-dev/unit/test_text: tests/unit/test_text.c src/core/password.h \
 src/core/../config.h src/core/../util/status.h src/core/../records.h \
 src/core/../util/secret.h src/core/../util/status.h \
 src/core/../util/status.h src/core/../util/utf8.h src/util/jsonw.h \
 src/util/buf.h src/util/status.h
src/core/password.h:
src/core/../config.h:
src/core/../util/status.h:
src/core/../records.h:
src/core/../util/secret.h:
src/core/../util/status.h:
src/core/../util/status.h:
src/core/../util/utf8.h:
src/util/jsonw.h:
src/util/buf.h:
src/util/status.h:
