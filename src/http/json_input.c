/* Declarative JSON body decoding. */
#include "json_input.h"

#include <string.h>

#include "../util/utf8.h"

static const struct json_field *find_field(const struct json_field *fields, size_t n,
                                           const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(fields[i].name, name))
            return &fields[i];
    return NULL;
}

gh_status json_input_decode(json_t *obj, const struct json_field *fields, size_t nfields, void *out,
                            const char **bad)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        if (!find_field(fields, nfields, key)) {
            *bad = key;
            return GH_ERR_UNKNOWN_FIELD;
        }
    }
    for (size_t i = 0; i < nfields; i++) {
        const struct json_field *f = &fields[i];
        const char **dst = (const char **)((char *)out + f->offset);
        json_t *v = json_object_get(obj, f->name);
        *dst = NULL;
        *bad = f->name;
        if (!v && f->required)
            return GH_ERR_MISSING_FIELD;
        if (!v || (json_is_null(v) && !f->required))
            continue; /* absent, or null for an optional field: same thing */
        if (!json_is_string(v))
            return GH_ERR_WRONG_TYPE;
        const char *s = json_string_value(v);
        if (json_string_length(v) > f->max_chars * 4 || utf8_length(s) > f->max_chars)
            return GH_ERR_TOO_LONG;
        *dst = s;
    }
    *bad = NULL;
    return GH_OK;
}
