build-dev/obj/src/util/thread_conn.o: src/util/thread_conn.c \
 src/util/thread_conn.h src/util/status.h src/util/log.h
src/util/thread_conn.h:
src/util/status.h:
src/util/log.h:
