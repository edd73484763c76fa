build-dev/unit/test_thread_conn: tests/unit/test_thread_conn.c \
 src/util/thread_conn.h src/util/status.h
src/util/thread_conn.h:
src/util/status.h:
