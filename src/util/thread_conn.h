/* One connection per thread for a backend instance (a store, a kv): a thread opens its own on
 * first use and keeps it; closing the instance closes every one. */
#ifndef GH_THREAD_CONN_H
#define GH_THREAD_CONN_H

#include <pthread.h>
#include <stdbool.h>

#include "status.h"

struct thread_conn_entry;

/* Opens a connection for the calling thread; owner is what thread_conns_init was given. */
typedef gh_status (*thread_conn_open_fn)(void *owner, void **out);
/* Frees a connection that open made (never called with NULL). */
typedef void (*thread_conn_close_fn)(void *conn);

struct thread_conns {
    pthread_key_t key;             /* each thread's own connection of this instance */
    pthread_mutex_t lock;          /* guards all */
    struct thread_conn_entry *all; /* every connection opened, for thread_conns_close */
    void *owner;
    thread_conn_open_fn open;
    thread_conn_close_fn close;
    bool ready; /* init succeeded: close has something to release */
};

/* Prepares tc for one backend instance; GH_INTERNAL when the thread has no key left for it. */
GH_MUST_CHECK gh_status thread_conns_init(struct thread_conns *tc, void *owner,
                                          thread_conn_open_fn open, thread_conn_close_fn close);

/* The calling thread's connection, opened with open() on first use and kept until
 * thread_conns_close. When open fails, its status is returned and the next call tries again. */
GH_MUST_CHECK gh_status thread_conn_get(struct thread_conns *tc, void **out);

/* The calling thread's connection, or NULL when it has not opened one: for calls, such as a
 * rollback, that have nothing to do on a thread without a connection. */
void *thread_conn_peek(const struct thread_conns *tc);

/* Closes every connection of every thread and releases tc (NULL-safe, and safe after a failed
 * init). No thread may use the instance any more. */
void thread_conns_close(struct thread_conns *tc);

#endif
