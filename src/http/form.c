/* Strict form bodies on top of libmicrohttpd's post processor. The post processor is lenient:
 * it hands over parts without a name, skips what it cannot read and accepts a body that never
 * closes. So besides its callbacks this file scans the raw body itself — counting the parts
 * (multipart delimiters or urlencoded pairs) and watching for the closing delimiter — and
 * refuses the form when the two views disagree. */
#include "form.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Buffer of the post processor: a part's headers must fit in it. */
#define PARSER_BUFFER (16 * 1024)

static const char multipart_type[] = "multipart/form-data";
static const char urlencoded_type[] = "application/x-www-form-urlencoded";

/* Records the first error; later ones are consequences of it. */
static void fail(struct form *f, gh_status st, const char *field, const char *text)
{
    if (f->error != GH_OK)
        return;
    f->error = st;
    f->error_field = field;
    f->error_text = text;
}

/* True for the characters RFC 2046 allows in a boundary. */
static bool is_boundary_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

/* Finds the boundary the way libmicrohttpd does (everything after "boundary=", without one
 * pair of quotes), so both scans look for the same delimiter; refuses what the RFC forbids. */
static gh_status read_boundary(struct form *f, const char *content_type)
{
    const char *b = strstr(content_type + sizeof multipart_type - 1, "boundary=");
    if (!b)
        return GH_ERR_INVALID_FORM;
    b += strlen("boundary=");
    size_t n = strlen(b);
    if (n >= 2 && b[0] == '"' && b[n - 1] == '"') {
        b++;
        n -= 2;
    }
    if (n == 0 || n > FORM_BOUNDARY_MAX || b[n - 1] == ' ')
        return GH_ERR_INVALID_FORM;
    for (size_t i = 0; i < n; i++)
        if (!is_boundary_char(b[i]))
            return GH_ERR_INVALID_FORM;
    memcpy(f->delimiter, "\r\n--", 4);
    memcpy(f->delimiter + 4, b, n);
    f->delimiter_len = n + 4;
    f->matched = 2; /* the first delimiter may open the body without a line break */
    return GH_OK;
}

/* Counts the delimiters of a multipart body and notes the closing one ("--" right after). */
static void scan_multipart(struct form *f, const char *data, size_t size)
{
    for (size_t i = 0; i < size && !f->closed; i++) {
        char c = data[i];
        if (f->close_seen > 0) {
            if (c == '-' && ++f->close_seen == 3) {
                f->raw_parts--; /* that delimiter closed the body instead of opening a part */
                f->closed = true;
                return;
            }
            if (c != '-')
                f->close_seen = 0;
        }
        if (c == f->delimiter[f->matched]) {
            if (++f->matched == f->delimiter_len) {
                f->raw_parts++;
                f->matched = 0;
                f->close_seen = 1;
            }
        } else {
            /* '\r' starts the delimiter and appears nowhere else in it */
            f->matched = c == '\r' ? 1 : 0;
        }
    }
}

/* Counts the non-empty key=value pairs of a urlencoded body. */
static void scan_urlencoded(struct form *f, const char *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '&') {
            if (f->in_pair)
                f->raw_parts++;
            f->in_pair = false;
        } else {
            f->in_pair = true;
        }
    }
}

/* The slot of the part called name, added when new; NULL after recording an error. */
static struct form_field *slot_for(struct form *f, const char *name, bool is_file)
{
    for (size_t i = 0; i < f->count; i++)
        if (!strcmp(f->fields[i].name, name))
            return &f->fields[i];
    if (strlen(name) >= FORM_NAME_MAX) {
        fail(f, GH_ERR_INVALID_FORM, NULL, "A form field name is too long.");
        return NULL;
    }
    if (f->count >= FORM_MAX_FIELDS) {
        fail(f, GH_ERR_INVALID_FORM, NULL, "The form has too many fields.");
        return NULL;
    }
    struct form_field *slot = &f->fields[f->count++];
    strcpy(slot->name, name);
    slot->is_file = is_file;
    slot->value.limit = is_file ? f->file_limit : FORM_TEXT_MAX;
    return slot;
}

/* Appends a chunk to a field's value within its limit and the shared memory budget. */
static void append_value(struct form *f, struct form_field *slot, const char *data, size_t size)
{
    if (slot->too_large || size == 0)
        return;
    if (slot->value.len + size > slot->value.limit) {
        slot->too_large = true;
        f->reserved -= slot->value.len;
        budget_release(f->budget, slot->value.len);
        buf_free(&slot->value);
        return;
    }
    if (!budget_take(f->budget, size)) {
        fail(f, GH_BUSY, NULL, NULL);
        return;
    }
    f->reserved += size;
    if (buf_append(&slot->value, data, size) != GH_OK)
        fail(f, GH_NO_MEMORY, NULL, NULL);
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    struct form *f = cls;
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    if (f->error != GH_OK)
        return MHD_NO;
    if (!key) { /* libmicrohttpd documents key as possibly NULL: a part without a name */
        fail(f, GH_ERR_INVALID_FORM, NULL, "A form part has no name.");
        return MHD_NO;
    }
    size_t known = f->count;
    struct form_field *slot = slot_for(f, key, filename != NULL);
    if (!slot)
        return MHD_NO;
    bool is_new = f->count > known;
    /* A part starts where the field changes, or where the same field starts over although it
     * has data already. Starting a field seen before means the field was sent twice. */
    if (is_new || slot != f->last || (off == 0 && (slot->value.len > 0 || slot->too_large))) {
        if (!is_new) {
            fail(f, GH_ERR_DUPLICATE_FIELD, slot->name, NULL);
            return MHD_NO;
        }
        f->part_starts++;
    }
    f->last = slot;
    if (size && data && !slot->is_file && memchr(data, '\0', size)) {
        fail(f, GH_ERR_INVALID_CHARACTERS, slot->name, NULL);
        return MHD_NO;
    }
    append_value(f, slot, data, size);
    return f->error == GH_OK ? MHD_YES : MHD_NO;
}

gh_status form_start(struct form *f, struct MHD_Connection *conn, const char *content_type,
                     size_t file_limit, struct body_budget *budget)
{
    f->file_limit = file_limit;
    f->budget = budget;
    if (!content_type)
        return GH_ERR_UNSUPPORTED_MEDIA_TYPE;
    if (!strncasecmp(content_type, multipart_type, sizeof multipart_type - 1)) {
        f->multipart = true;
        gh_status st = read_boundary(f, content_type);
        if (st != GH_OK)
            return st;
    } else if (strncasecmp(content_type, urlencoded_type, sizeof urlencoded_type - 1)) {
        return GH_ERR_UNSUPPORTED_MEDIA_TYPE;
    }
    f->parser = MHD_create_post_processor(conn, PARSER_BUFFER, on_part, f);
    return f->parser ? GH_OK : GH_ERR_UNSUPPORTED_MEDIA_TYPE;
}

void form_feed(struct form *f, const char *data, size_t size)
{
    f->bytes += size;
    if (f->multipart)
        scan_multipart(f, data, size);
    else
        scan_urlencoded(f, data, size);
    if (f->error == GH_OK && f->parser && MHD_post_process(f->parser, data, size) != MHD_YES)
        fail(f, GH_ERR_INVALID_FORM, NULL, NULL);
}

gh_status form_finish(struct form *f, const char **field, const char **text)
{
    if (f->parser && MHD_destroy_post_processor(f->parser) != MHD_YES)
        fail(f, GH_ERR_INVALID_FORM, NULL, NULL);
    f->parser = NULL;
    if (!f->multipart && f->in_pair) {
        f->raw_parts++;
        f->in_pair = false;
    }
    if (f->multipart && f->bytes > 0 && !f->closed)
        fail(f, GH_ERR_INVALID_FORM, NULL,
             "The form data is incomplete or does not match its boundary.");
    if (f->raw_parts != f->part_starts)
        fail(f, GH_ERR_INVALID_FORM, NULL,
             "The form has a field more than once or a part that could not be read.");
    *field = f->error_field;
    *text = f->error_text;
    return f->error;
}

const struct form_field *form_field(const struct form *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++)
        if (!strcmp(f->fields[i].name, name))
            return &f->fields[i];
    return NULL;
}

void form_free(struct form *f)
{
    if (f->parser)
        MHD_destroy_post_processor(f->parser);
    f->parser = NULL;
    for (size_t i = 0; i < f->count; i++)
        buf_free(&f->fields[i].value);
    f->count = 0;
    if (f->budget)
        budget_release(f->budget, f->reserved);
    f->reserved = 0;
}
