/* Declarative decoding of JSON request bodies: a handler lists its fields and one decoder fills
 * a struct of string pointers or names the field at fault. */
#ifndef GH_JSON_INPUT_H
#define GH_JSON_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../util/status.h"

struct json_field {
    const char *name;
    bool required;
    size_t max_chars; /* longer strings fail with GH_ERR_TOO_LONG */
    size_t offset;    /* of a `const char *` member in the output struct */
};

#define JSON_FIELD(type, member, req, max)                                                         \
    {                                                                                              \
#member, req, max, offsetof(type, member)                                                  \
    }

/* Fills the members of out from obj: strings borrowed from obj, absent optional ones NULL
 * (null counts as absent for an optional field and as the wrong type for a required one).
 * Returns GH_OK, or GH_ERR_MISSING_FIELD / WRONG_TYPE / UNKNOWN_FIELD / TOO_LONG with *bad set
 * to the field's name. */
GH_MUST_CHECK gh_status json_input_decode(json_t *obj, const struct json_field *fields,
                                          size_t nfields, void *out, const char **bad);

#endif
