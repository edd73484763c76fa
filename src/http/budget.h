/* The memory budget of request bodies: every request body held in memory (JSON bodies, form
 * fields, uploaded files) takes its bytes from one budget shared by all requests, so many slow
 * uploads together cannot take more than GATEHOUSE_BODY_MEMORY_MIB. */
#ifndef GH_BUDGET_H
#define GH_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct body_budget {
    atomic_size_t used;
    size_t cap;
};

/* Takes n bytes; false (nothing taken) when that would pass the cap. */
static inline bool budget_take(struct body_budget *b, size_t n)
{
    size_t before = atomic_fetch_add_explicit(&b->used, n, memory_order_relaxed);
    if (before + n <= b->cap && before + n >= before)
        return true;
    atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
    return false;
}

/* Gives back n bytes taken before. */
static inline void budget_release(struct body_budget *b, size_t n)
{
    atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
}

#endif
