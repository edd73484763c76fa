/* Form bodies (multipart/form-data and application/x-www-form-urlencoded), read strictly:
 * libmicrohttpd's post processor splits the parts, and this file refuses what it would let
 * through silently — a part without a name, a field sent twice, a NUL byte in a text field,
 * a body that does not match its boundary or never closes it. */
#ifndef GH_FORM_H
#define GH_FORM_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "../util/buf.h"
#include "../util/status.h"
#include "budget.h"

#define FORM_MAX_FIELDS   16   /* parts of one form; more is refused */
#define FORM_NAME_MAX     64   /* bytes of a field name, with its NUL */
#define FORM_TEXT_MAX     4096 /* bytes of one text field; longer ones are marked too_large */
#define FORM_BOUNDARY_MAX 70   /* RFC 2046 */

/* One part of the form. */
struct form_field {
    char name[FORM_NAME_MAX];
    struct buf value; /* NUL-terminated; data NULL for an empty value */
    bool is_file;
    bool too_large; /* the value passed its limit and was dropped */
};

struct form {
    struct form_field fields[FORM_MAX_FIELDS];
    size_t count;
    struct MHD_PostProcessor *parser;
    size_t file_limit;          /* bytes of one file part */
    struct body_budget *budget; /* memory shared by every request's body */
    size_t reserved;            /* bytes taken from budget, given back by form_free */
    /* What the post processor reported, to compare with the raw stream. */
    struct form_field *last;
    size_t part_starts;
    /* The raw stream, scanned independently of the post processor. */
    bool multipart;
    char delimiter[FORM_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
    size_t delimiter_len, matched;
    int close_seen;   /* dashes seen right after a delimiter: 2 = the closing one */
    size_t raw_parts; /* multipart: delimiters that open a part; urlencoded: key=value pairs */
    bool in_pair;     /* urlencoded: inside a non-empty pair */
    bool closed;      /* multipart: the closing delimiter was seen */
    size_t bytes;     /* body bytes seen */
    /* The first error, answered once the body is in. */
    gh_status error;
    const char *error_field; /* borrowed from a field name or NULL */
    const char *error_text;  /* static text or NULL for the error table's sentence */
};

/* Starts reading a form body on conn. GH_ERR_UNSUPPORTED_MEDIA_TYPE when content_type is not a
 * form type, GH_ERR_INVALID_FORM when a multipart type lacks a valid boundary. */
GH_MUST_CHECK gh_status form_start(struct form *f, struct MHD_Connection *conn,
                                   const char *content_type, size_t file_limit,
                                   struct body_budget *budget);
/* Takes one chunk of the body. Errors are kept for form_finish. */
void form_feed(struct form *f, const char *data, size_t size);
/* Checks the whole form once the body is in: GH_OK, or the error to answer with the field it
 * names (*field, may be NULL) and a sentence for it (*text, NULL for the table's). */
GH_MUST_CHECK gh_status form_finish(struct form *f, const char **field, const char **text);
/* The part called name, NULL when absent. */
const struct form_field *form_field(const struct form *f, const char *name);
/* Frees the parser and the values (wiped) and gives their memory back to the budget. */
void form_free(struct form *f);

#endif
