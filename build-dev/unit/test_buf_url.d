build-dev/unit/test_buf_url: tests/unit/test_buf_url.c src/util/buf.h \
 src/util/status.h src/util/url.h
src/util/buf.h:
src/util/status.h:
src/util/url.h:
