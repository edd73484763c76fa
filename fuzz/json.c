/* libFuzzer target for the JSON input decoder (http/json_input.c): a request body parsed by
 * jansson as the HTTP layer parses it, then decoded with the field table of one of the JSON
 * routes. The first byte of the input picks the table; the rest is the body. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "records.h"
#include "core/password.h"
#include "http/json_input.h"

/* The decoded fields of every table, one pointer per possible member. */
struct decoded {
    const char *email;
    const char *password;
    const char *first_name;
    const char *last_name;
    const char *token;
    const char *current_password;
    const char *new_password;
};

#define FIELD(member, max)    JSON_FIELD(struct decoded, member, true, max)
#define OPTIONAL(member, max) JSON_FIELD(struct decoded, member, false, max)

/* The tables of api/users.c and api/password.c, and one with optional fields (the decoder's
 * other branch, which no route uses today). */
static const struct json_field register_fields[] = {
    FIELD(email, EMAIL_MAX),
    FIELD(password, PASSWORD_INPUT_MAX),
    FIELD(first_name, NAME_INPUT_MAX),
    FIELD(last_name, NAME_INPUT_MAX),
};
static const struct json_field login_fields[] = {
    FIELD(email, EMAIL_MAX),
    FIELD(password, PASSWORD_INPUT_MAX),
};
static const struct json_field email_fields[] = {
    FIELD(email, EMAIL_MAX),
};
static const struct json_field reset_fields[] = {
    FIELD(token, 64),
    FIELD(password, PASSWORD_INPUT_MAX),
};
static const struct json_field change_fields[] = {
    FIELD(current_password, PASSWORD_INPUT_MAX),
    FIELD(new_password, PASSWORD_INPUT_MAX),
};
static const struct json_field optional_fields[] = {
    OPTIONAL(first_name, 3),
    FIELD(email, EMAIL_MAX),
    OPTIONAL(last_name, 0),
};

struct table {
    const struct json_field *fields;
    size_t count;
};

#define TABLE(t)                                                                                   \
    {                                                                                              \
        t, sizeof t / sizeof t[0]                                                                  \
    }

static const struct table tables[] = {
    TABLE(register_fields), TABLE(login_fields),  TABLE(email_fields),
    TABLE(reset_fields),    TABLE(change_fields), TABLE(optional_fields),
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz/json: %s\n", what);
        abort();
    }
}

static bool in_table(const struct table *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++)
        if (!strcmp(t->fields[i].name, name))
            return true;
    return false;
}

/* What the decoder promises: on success every required field is a string, every string fits
 * its limit in code points and is the object's own member; on failure the field at fault is
 * named, and an unknown field is one the object really has. */
static void check_result(json_t *obj, const struct table *t, gh_status st,
                         const struct decoded *out, const char *bad)
{
    if (st != GH_OK) {
        check(bad != NULL, "a failure without the field at fault");
        check(st == GH_ERR_MISSING_FIELD || st == GH_ERR_WRONG_TYPE || st == GH_ERR_UNKNOWN_FIELD ||
                  st == GH_ERR_TOO_LONG,
              "an unexpected status");
        if (st == GH_ERR_UNKNOWN_FIELD)
            check(!in_table(t, bad) && json_object_get(obj, bad), "a wrong unknown field");
        else
            check(in_table(t, bad), "a failure naming a field outside the table");
        return;
    }
    check(bad == NULL, "success with a field at fault");
    for (size_t i = 0; i < t->count; i++) {
        const struct json_field *f = &t->fields[i];
        const char *v = *(const char *const *)((const char *)out + f->offset);
        json_t *member = json_object_get(obj, f->name);
        if (!v) {
            check(!f->required, "a required field left NULL");
            check(!member || json_is_null(member), "a present optional field left NULL");
            continue;
        }
        check(json_is_string(member) && v == json_string_value(member),
              "a value that is not the member's string");
        check(utf8_is_valid(v), "a value that is not UTF-8");
        check(utf8_length(v) <= f->max_chars, "a value longer than its limit");
        check(strlen(v) == json_string_length(member), "a value with a NUL inside");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct table *t = &tables[data[0] % (sizeof tables / sizeof tables[0])];
    json_error_t err;
    /* the flags of http/server.c's finish_body */
    json_t *obj = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &err);
    if (json_is_object(obj)) {
        struct decoded out;
        const char *bad = NULL;
        memset(&out, 0xa5, sizeof out); /* the decoder must set every member itself */
        gh_status st = json_input_decode(obj, t->fields, t->count, &out, &bad);
        check_result(obj, t, st, &out, bad);
    }
    json_decref(obj);
    return 0;
}
