/* Importing the accounts of another system (gatehouse import): rust-auth and Django. The rules:
 * UUID ids are kept, integer ids get a new UUID (both remembered in import_id_map, so a second
 * run skips what the first imported); an address that two rows of the source share
 * (case-insensitively), or that a gatehouse account has, is skipped and reported, never merged;
 * is_staff and is_superuser are dropped unless kept; names and profile fields that fail
 * gatehouse's checks are dropped and reported; password hashes are stored as they are and
 * verified by scheme at login (core/legacy_hash.h), those that cannot be verified are counted
 * as resets needed. Rows are written in transactions of IMPORT_BATCH; a dry run does all of it
 * and rolls every transaction back. */
#ifndef GH_IMPORT_H
#define GH_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../app.h"
#include "../store/import_source.h"
#include "legacy_hash.h"

#define IMPORT_BATCH 1000

struct import_options {
    enum import_kind kind;
    bool dry_run;
    bool keep_staff;
    /* Called after each batch with the rows read so far and the total (may be NULL). */
    void (*progress)(void *ctx, int64_t done, int64_t total, int64_t imported);
    void *progress_ctx;
};

/* What an import did, for its JSON report. */
enum import_skip {
    SKIP_ALREADY_IMPORTED,
    SKIP_DUPLICATE_IN_SOURCE,
    SKIP_EMAIL_EXISTS,
    SKIP_INVALID_EMAIL,
    SKIP_INVALID_ID,
    SKIP_ID_EXISTS,
    SKIP_COUNT
};

enum import_field {
    FIELD_FIRST_NAME,
    FIELD_LAST_NAME,
    FIELD_PHONE_NUMBER,
    FIELD_BIRTH_DATE,
    FIELD_GITHUB_LINK,
    FIELD_THUMBNAIL,
    FIELD_COUNT
};

/* The most rows listed one by one in the report (skipped rows, dropped fields, resets); the
 * counts always cover every row. */
#define IMPORT_REPORT_LIST_MAX 1000

struct import_report {
    int64_t read, imported;
    int64_t skipped[SKIP_COUNT];
    int64_t schemes[HASH_SCHEME_COUNT]; /* of the imported rows */
    int64_t resets;                     /* imported rows whose password needs a reset */
    int64_t reset_reasons[HASH_UNKNOWN_SCHEME + 1];
    int64_t fields_dropped[FIELD_COUNT];
    int64_t staff_dropped, staff_kept;
    int64_t ids_kept, ids_new;
    json_t *skipped_rows;   /* [{id, email, reason}] */
    json_t *dropped_fields; /* [{id, field}] */
    json_t *reset_rows;     /* [{id, reason}] */
};

/* Imports from src into app->store. GH_OK when every row was read and judged (rows skipped
 * are not errors); the report is filled as far as it went either way (free it with
 * import_report_free). */
GH_MUST_CHECK gh_status import_run(struct app *app, struct import_source *src,
                                   const struct import_options *opt, struct import_report *rep);

/* The report as JSON (new reference). */
json_t *import_report_json(const struct import_report *rep, const struct import_options *opt,
                           const char *source_name, double seconds);
void import_report_free(struct import_report *rep);

#endif
