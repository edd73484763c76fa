/* One connection per thread for a backend instance, on a pthread key of its own: the lookup is
 * a pthread_getspecific, with no lock, and instances of the same backend (or of different ones)
 * used by one thread never take each other's slot. A key is deleted at close; POSIX gives a
 * key created later the value NULL in every thread, so no thread sees a closed instance's
 * connection. */
#include "thread_conn.h"

#include <stdlib.h>

#include "log.h"

struct thread_conn_entry {
    void *conn;
    struct thread_conn_entry *next;
};

gh_status thread_conns_init(struct thread_conns *tc, void *owner, thread_conn_open_fn open,
                            thread_conn_close_fn close)
{
    *tc = (struct thread_conns){.owner = owner, .open = open, .close = close};
    if (pthread_key_create(&tc->key, NULL)) {
        log_msg(LOG_ERROR, "no thread-specific key left for a connection");
        return GH_INTERNAL;
    }
    pthread_mutex_init(&tc->lock, NULL);
    tc->ready = true;
    return GH_OK;
}

void *thread_conn_peek(const struct thread_conns *tc)
{
    return pthread_getspecific(tc->key);
}

gh_status thread_conn_get(struct thread_conns *tc, void **out)
{
    void *conn = pthread_getspecific(tc->key);
    struct thread_conn_entry *entry = NULL;
    gh_status st = GH_OK;
    if (conn)
        goto out;
    if (!(entry = calloc(1, sizeof *entry))) {
        st = GH_NO_MEMORY;
        goto out;
    }
    if ((st = tc->open(tc->owner, &conn)) != GH_OK)
        goto out;
    if (pthread_setspecific(tc->key, conn)) {
        tc->close(conn);
        conn = NULL;
        st = GH_NO_MEMORY;
        goto out;
    }
    entry->conn = conn;
    pthread_mutex_lock(&tc->lock);
    entry->next = tc->all;
    tc->all = entry;
    pthread_mutex_unlock(&tc->lock);
    entry = NULL;
out:
    free(entry);
    if (st == GH_OK)
        *out = conn;
    return st;
}

void thread_conns_close(struct thread_conns *tc)
{
    if (!tc || !tc->ready)
        return;
    struct thread_conn_entry *entry = tc->all;
    while (entry) {
        struct thread_conn_entry *next = entry->next;
        tc->close(entry->conn);
        free(entry);
        entry = next;
    }
    tc->all = NULL;
    pthread_key_delete(tc->key);
    pthread_mutex_destroy(&tc->lock);
    tc->ready = false;
}
