/* The one table from status code to HTTP status, error code word and message. */
#ifndef GH_ERRORS_H
#define GH_ERRORS_H

#include "../util/status.h"

struct error_info {
    unsigned http_status;
    const char *code;    /* stable machine-readable word */
    const char *message; /* one sentence; "%s" (at most one) is replaced by the field name */
    const char *field;   /* the request field the error is about when the caller names none */
};

/* The answer for a status; unknown or GH_OK statuses map to a 500. */
const struct error_info *error_lookup(gh_status st);

#endif
