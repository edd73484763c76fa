/* Importing another system's accounts: one transaction per batch of rows, every row judged by
 * the rules of import.h, a report of what was done. */
#include "import.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../store/store.h"
#include "../util/log.h"
#include "../util/timeutil.h"
#include "audit.h"
#include "email.h"
#include "password.h"
#include "profile.h"

static const char *const skip_names[SKIP_COUNT] = {
    [SKIP_ALREADY_IMPORTED] = "already_imported",
    [SKIP_DUPLICATE_IN_SOURCE] = "duplicate_email_in_source",
    [SKIP_EMAIL_EXISTS] = "email_exists",
    [SKIP_INVALID_EMAIL] = "invalid_email",
    [SKIP_INVALID_ID] = "invalid_id",
    [SKIP_ID_EXISTS] = "id_exists",
};

static const char *const field_names[FIELD_COUNT] = {
    [FIELD_FIRST_NAME] = "first_name",     [FIELD_LAST_NAME] = "last_name",
    [FIELD_PHONE_NUMBER] = "phone_number", [FIELD_BIRTH_DATE] = "birth_date",
    [FIELD_GITHUB_LINK] = "github_link",   [FIELD_THUMBNAIL] = "thumbnail",
};

static const char *const reset_names[HASH_UNKNOWN_SCHEME + 1] = {
    [HASH_NO_PASSWORD] = "unusable_password",
    [HASH_OUT_OF_BOUNDS] = "hash_parameters_out_of_bounds",
    [HASH_MALFORMED] = "malformed_hash",
    [HASH_UNKNOWN_SCHEME] = "unknown_hash_scheme",
};

/* What one batch is judged with, and what it found (merged into the report on commit). */
struct batch {
    struct app *app;
    const struct import_options *opt;
    const char *source;
    char **duplicates;
    size_t duplicate_count;
    const struct hash_bounds *bounds;
    const struct import_row *rows;
    size_t n;
    int64_t now;
    struct import_report rep;
};

/* ---- small checks ---- */

/* A UUID of the source (hyphenated, or Django's 32 hex digits on SQLite, any case) as gatehouse
 * writes it (lowercase, hyphenated); false when id is not one. */
static bool uuid_normalize(const char *id, char out[UUID_LEN + 1])
{
    size_t len = strlen(id), o = 0;
    if (len != 32 && len != UUID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool hyphen_here = len == UUID_LEN && (i == 8 || i == 13 || i == 18 || i == 23);
        if (hyphen_here) {
            if (id[i] != '-')
                return false;
            out[o++] = '-';
            continue;
        }
        if (!isxdigit((unsigned char)id[i]))
            return false;
        if (len == 32 && (i == 8 || i == 12 || i == 16 || i == 20))
            out[o++] = '-';
        out[o++] = (char)tolower((unsigned char)id[i]);
    }
    out[o] = '\0';
    return o == UUID_LEN;
}

static bool is_integer_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)id[i]))
            return false;
    return true;
}

/* A hash that can be stored as it is: printable ASCII that fits the column. */
static bool storable_hash(const char *hash)
{
    size_t n = strlen(hash);
    if (n == 0 || n >= PASSWORD_HASH_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (hash[i] < 0x21 || hash[i] > 0x7e)
            return false;
    return true;
}

static int compare_text(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static void list_add(json_t *list, json_t *item)
{
    if (json_array_size(list) < IMPORT_REPORT_LIST_MAX)
        json_array_append_new(list, item);
    else
        json_decref(item);
}

static void skip(struct batch *b, const struct import_row *r, enum import_skip why)
{
    b->rep.skipped[why]++;
    list_add(b->rep.skipped_rows, json_pack("{s:s, s:s, s:s}", "id", r->id, "email", r->email,
                                            "reason", skip_names[why]));
}

static void drop_field(struct batch *b, const char *id, enum import_field f)
{
    b->rep.fields_dropped[f]++;
    list_add(b->rep.dropped_fields, json_pack("{s:s, s:s}", "id", id, "field", field_names[f]));
}

/* Copies a profile field that passes its check (and fits), else drops it. */
static void keep_field(struct batch *b, const char *id, const char *value, gh_status check,
                       char *dst, size_t cap, enum import_field f)
{
    if (!value[0])
        return;
    if (check != GH_OK || strlen(value) >= cap) {
        drop_field(b, id, f);
        return;
    }
    strcpy(dst, value);
}

/* ---- one row ---- */

/* Judges and (unless skipped) inserts one row of the source. Errors of the store end the
 * batch; a skipped row is GH_OK. */
static gh_status import_one(struct batch *b, struct store *st, const struct import_row *r)
{
    struct user u = {0};
    char old_id[sizeof r->id], mapped[UUID_LEN + 1];
    struct user existing;
    b->rep.read++;
    bool kept = uuid_normalize(r->id, u.id);
    if (!kept && !is_integer_id(r->id)) {
        skip(b, r, SKIP_INVALID_ID);
        return GH_OK;
    }
    snprintf(old_id, sizeof old_id, "%s", kept ? u.id : r->id);
    gh_status status = st->import_map_get(st, b->source, old_id, mapped);
    if (status == GH_OK) {
        skip(b, r, SKIP_ALREADY_IMPORTED);
        return GH_OK;
    }
    if (status != GH_NOT_FOUND)
        return status;
    if (email_normalize(r->email, u.email) != GH_OK) {
        skip(b, r, SKIP_INVALID_EMAIL);
        return GH_OK;
    }
    if (bsearch(u.email, b->duplicates, b->duplicate_count, sizeof *b->duplicates, compare_text)) {
        skip(b, r, SKIP_DUPLICATE_IN_SOURCE);
        return GH_OK;
    }
    status = st->user_by_email(st, u.email, &existing);
    if (status == GH_OK) {
        skip(b, r, SKIP_EMAIL_EXISTS);
        return GH_OK;
    }
    if (status != GH_NOT_FOUND)
        return status;
    if (kept) {
        status = st->user_by_id(st, u.id, &existing);
        if (status == GH_OK) {
            skip(b, r, SKIP_ID_EXISTS);
            return GH_OK;
        }
        if (status != GH_NOT_FOUND)
            return status;
    } else {
        secret_uuid_new(u.id);
    }
    /* the password hash, as it is; what cannot be verified needs a reset */
    struct hash_params hp;
    enum hash_verdict verdict = hash_parse(r->password, b->bounds, &hp);
    b->rep.schemes[hp.scheme]++;
    if (verdict != HASH_VERIFIABLE) {
        b->rep.resets++;
        b->rep.reset_reasons[verdict]++;
        list_add(b->rep.reset_rows,
                 json_pack("{s:s, s:s}", "id", u.id, "reason", reset_names[verdict]));
    }
    strcpy(u.password_hash, storable_hash(r->password) ? r->password : "!");
    /* names and profile fields that fail gatehouse's checks are dropped */
    if (name_normalize(r->first_name, u.first_name) != GH_OK) {
        u.first_name[0] = '\0';
        if (r->first_name[0])
            drop_field(b, u.id, FIELD_FIRST_NAME);
    }
    if (name_normalize(r->last_name, u.last_name) != GH_OK) {
        u.last_name[0] = '\0';
        if (r->last_name[0])
            drop_field(b, u.id, FIELD_LAST_NAME);
    }
    keep_field(b, u.id, r->phone_number, profile_check_phone(r->phone_number),
               u.profile.phone_number, sizeof u.profile.phone_number, FIELD_PHONE_NUMBER);
    keep_field(b, u.id, r->birth_date, profile_check_birth_date(r->birth_date, b->now),
               u.profile.birth_date, sizeof u.profile.birth_date, FIELD_BIRTH_DATE);
    keep_field(b, u.id, r->github_link, profile_check_github_link(r->github_link),
               u.profile.github_link, sizeof u.profile.github_link, FIELD_GITHUB_LINK);
    if (r->thumbnail[0]) /* a URL of the old system's storage, not a key of gatehouse's */
        drop_field(b, u.id, FIELD_THUMBNAIL);
    u.is_active = r->is_active;
    if (r->is_staff || r->is_superuser) {
        if (b->opt->keep_staff) {
            u.is_staff = r->is_staff || r->is_superuser;
            u.is_superuser = r->is_superuser;
            b->rep.staff_kept++;
        } else {
            b->rep.staff_dropped++;
        }
    }
    u.date_joined = r->date_joined > 0 ? r->date_joined : b->now;
    secret_uuid_new(u.profile.id);
    status = st->user_insert(st, &u);
    if (status == GH_CONFLICT) { /* taken since the check */
        skip(b, r, SKIP_EMAIL_EXISTS);
        status = GH_OK;
        goto out;
    }
    if (status == GH_OK)
        status = st->import_map_insert(st, b->source, old_id, u.id, b->now);
    if (status == GH_OK) {
        b->rep.imported++;
        if (kept)
            b->rep.ids_kept++;
        else
            b->rep.ids_new++;
    }
out:
    sodium_memzero(&u, sizeof u);
    return status;
}

/* ---- batches ---- */

static gh_status report_init(struct import_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->skipped_rows = json_array();
    rep->dropped_fields = json_array();
    rep->reset_rows = json_array();
    return rep->skipped_rows && rep->dropped_fields && rep->reset_rows ? GH_OK : GH_NO_MEMORY;
}

void import_report_free(struct import_report *rep)
{
    json_decref(rep->skipped_rows);
    json_decref(rep->dropped_fields);
    json_decref(rep->reset_rows);
    rep->skipped_rows = rep->dropped_fields = rep->reset_rows = NULL;
}

static void list_merge(json_t *into, json_t *from)
{
    size_t i;
    json_t *v;
    json_array_foreach(from, i, v) list_add(into, json_incref(v));
}

static void report_merge(struct import_report *into, const struct import_report *from)
{
    into->read += from->read;
    into->imported += from->imported;
    for (int i = 0; i < SKIP_COUNT; i++)
        into->skipped[i] += from->skipped[i];
    for (int i = 0; i < HASH_SCHEME_COUNT; i++)
        into->schemes[i] += from->schemes[i];
    into->resets += from->resets;
    for (int i = 0; i <= HASH_UNKNOWN_SCHEME; i++)
        into->reset_reasons[i] += from->reset_reasons[i];
    for (int i = 0; i < FIELD_COUNT; i++)
        into->fields_dropped[i] += from->fields_dropped[i];
    into->staff_dropped += from->staff_dropped;
    into->staff_kept += from->staff_kept;
    into->ids_kept += from->ids_kept;
    into->ids_new += from->ids_new;
    list_merge(into->skipped_rows, from->skipped_rows);
    list_merge(into->dropped_fields, from->dropped_fields);
    list_merge(into->reset_rows, from->reset_rows);
}

/* Runs one batch in a transaction (rolled back on a dry run), retried while the database is
 * busy; what it found joins rep once it is done. */
static gh_status run_batch(struct batch *b, struct import_report *rep)
{
    struct store *st = b->app->store;
    gh_status status = GH_BUSY;
    for (int attempt = 0; attempt < 5 && status == GH_BUSY; attempt++) {
        if (attempt) {
            struct timespec pause = {0, 50000000L * attempt};
            nanosleep(&pause, NULL);
        }
        import_report_free(&b->rep);
        if ((status = report_init(&b->rep)) != GH_OK)
            break;
        if ((status = st->begin(st)) != GH_OK)
            continue;
        for (size_t i = 0; status == GH_OK && i < b->n; i++)
            status = import_one(b, st, &b->rows[i]);
        if (status == GH_OK && !b->opt->dry_run)
            status = st->commit(st);
        else
            st->rollback(st);
    }
    if (status == GH_OK)
        report_merge(rep, &b->rep);
    import_report_free(&b->rep);
    return status;
}

gh_status import_run(struct app *app, struct import_source *src, const struct import_options *opt,
                     struct import_report *rep)
{
    struct hash_bounds bounds;
    struct batch b = {.app = app, .opt = opt, .source = src->name, .bounds = &bounds};
    struct import_row *rows = calloc(IMPORT_BATCH, sizeof *rows);
    int64_t total = 0;
    gh_status status = report_init(rep);
    if (status == GH_OK && !rows)
        status = GH_NO_MEMORY;
    if (status != GH_OK)
        goto out;
    password_bounds_for(app->cfg, &bounds);
    b.rows = rows;
    if ((status = src->count(src, &total)) != GH_OK ||
        (status = src->duplicate_emails(src, &b.duplicates, &b.duplicate_count)) != GH_OK)
        goto out;
    for (;;) {
        if ((status = src->next(src, rows, IMPORT_BATCH, &b.n)) != GH_OK || b.n == 0)
            break;
        b.now = time_now();
        if ((status = run_batch(&b, rep)) != GH_OK)
            break;
        if (opt->progress)
            opt->progress(opt->progress_ctx, rep->read, total, rep->imported);
    }
    if (status == GH_OK && !opt->dry_run) {
        char detail[200];
        struct client_info operator= {.ip = "local", .user_agent = "gatehouse import"};
        snprintf(detail, sizeof detail, "%.150s: %lld imported, %lld read", src->name,
                 (long long)rep->imported, (long long)rep->read);
        audit_record(app, "import", NULL, NULL, &operator, detail);
    }
out:
    for (size_t i = 0; i < b.duplicate_count; i++)
        free(b.duplicates[i]);
    free(b.duplicates);
    if (rows)
        sodium_memzero(rows, IMPORT_BATCH * sizeof *rows);
    free(rows);
    return status;
}

/* {name: count} of the non-zero counts of names. */
static json_t *counts(const char *const *names, const int64_t *values, int n)
{
    json_t *o = json_object();
    for (int i = 0; o && i < n; i++)
        if (names[i] && values[i])
            json_object_set_new(o, names[i], json_integer(values[i]));
    return o;
}

json_t *import_report_json(const struct import_report *rep, const struct import_options *opt,
                           const char *source_name, double seconds)
{
    const char *schemes[HASH_SCHEME_COUNT];
    for (int i = 0; i < HASH_SCHEME_COUNT; i++)
        schemes[i] = hash_scheme_name((enum hash_scheme)i);
    int64_t skipped = 0;
    for (int i = 0; i < SKIP_COUNT; i++)
        skipped += rep->skipped[i];
    return json_pack(
        "{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:o, s:O, s:o, s:{s:I, s:o, s:O}, s:o, s:O, "
        "s:{s:I, s:I}, s:{s:I, s:I}, s:f}",
        "source", opt->kind == IMPORT_DJANGO ? "django" : "rust-auth", "from", source_name,
        "dry_run", opt->dry_run, "keep_staff", opt->keep_staff, "read", (json_int_t)rep->read,
        "imported", (json_int_t)rep->imported, "skipped", (json_int_t)skipped, "skipped_reasons",
        counts(skip_names, rep->skipped, SKIP_COUNT), "skipped_rows", rep->skipped_rows,
        "hash_schemes", counts(schemes, rep->schemes, HASH_SCHEME_COUNT), "resets_needed", "total",
        (json_int_t)rep->resets, "reasons",
        counts(reset_names, rep->reset_reasons, HASH_UNKNOWN_SCHEME + 1), "rows", rep->reset_rows,
        "fields_dropped", counts(field_names, rep->fields_dropped, FIELD_COUNT), "dropped_fields",
        rep->dropped_fields, "staff", "dropped", (json_int_t)rep->staff_dropped, "kept",
        (json_int_t)rep->staff_kept, "ids", "kept_uuid", (json_int_t)rep->ids_kept, "new_uuid",
        (json_int_t)rep->ids_new, "seconds", seconds);
}
