/* Helpers for the records of model.h. */
#include "model.h"

#include <stdlib.h>

void mail_clear(struct mail *m)
{
    if (!m)
        return;
    free(m->subject);
    free(m->text_body);
    free(m->html_body);
    m->subject = m->text_body = m->html_body = NULL;
}
