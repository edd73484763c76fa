/* Helpers for the records of records.h. */
#include "records.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Overwrites a heap string with zeros, then frees it (NULL-safe). */
static void free_wiped(char *s)
{
    if (!s)
        return;
    sodium_memzero(s, strlen(s));
    free(s);
}

/* Mail bodies carry live one-time links, so they are wiped before their memory is reused. */
void mail_clear(struct mail *m)
{
    if (!m)
        return;
    free_wiped(m->subject);
    free_wiped(m->text_body);
    free_wiped(m->html_body);
    m->subject = m->text_body = m->html_body = NULL;
}
