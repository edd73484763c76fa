build-dev/unit/test_config: tests/unit/test_config.c src/config.h \
 src/util/status.h tests/unit/config_table.h src/util/buf.h \
 src/util/status.h
src/config.h:
src/util/status.h:
tests/unit/config_table.h:
src/util/buf.h:
src/util/status.h:
