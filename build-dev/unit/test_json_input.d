build-dev/unit/test_json_input: tests/unit/test_json_input.c \
 src/http/json_input.h src/http/../util/status.h
src/http/json_input.h:
src/http/../util/status.h:
