/* The rules of core/import.c on the fake store (core_app.h), with a source in memory: batches of
 * IMPORT_BATCH rows, each one transaction (a failing batch leaves the ones before it and nothing
 * of itself), a second run that imports nothing, a dry run that writes nothing and reports the
 * same, retries of a busy batch that count each row once, and the judgement of single rows
 * (ids kept or new, shared and existing addresses skipped, staff dropped or kept, refused fields
 * dropped, hashes that need a reset). The hashes here are placeholders: the API tests verify
 * hashes made by Django, argon2-cffi and passlib. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_app.h"
#include "core/import.h"
#include "core/login_pad.h"

#define PBKDF2 "pbkdf2_sha256$20000$c2FsdHNhbHQ$3sGnkXPYEP0b0bbX0Pj4ZxPZ4jbj0mXhT1PkBv1oM0Q="
#define UUID_A "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"

/* A source in memory: rows made by a function of their index. */
struct mem_source {
    struct import_source base;
    size_t total, next;
    void (*make)(size_t i, struct import_row *r);
    const char *const *duplicates; /* sorted, NULL-terminated */
};

static gh_status mem_next(struct import_source *src, struct import_row *rows, size_t cap, size_t *n)
{
    struct mem_source *s = (struct mem_source *)src;
    for (*n = 0; *n < cap && s->next < s->total; (*n)++, s->next++) {
        memset(&rows[*n], 0, sizeof rows[*n]);
        s->make(s->next, &rows[*n]);
    }
    return GH_OK;
}

static gh_status mem_duplicates(struct import_source *src, char ***out, size_t *n)
{
    struct mem_source *s = (struct mem_source *)src;
    size_t count = 0;
    while (s->duplicates && s->duplicates[count])
        count++;
    *out = calloc(count + 1, sizeof **out);
    if (!*out)
        return GH_NO_MEMORY;
    for (*n = 0; *n < count; (*n)++)
        if (!((*out)[*n] = strdup(s->duplicates[*n])))
            return GH_NO_MEMORY;
    return GH_OK;
}

static gh_status mem_count(struct import_source *src, int64_t *n)
{
    *n = (int64_t)((struct mem_source *)src)->total;
    return GH_OK;
}

static void mem_close(struct import_source *src)
{
    (void)src;
}

static struct mem_source mem_source(size_t total, void (*make)(size_t, struct import_row *))
{
    struct mem_source s = {.total = total, .make = make};
    s.base = (struct import_source){.next = mem_next,
                                    .duplicate_emails = mem_duplicates,
                                    .count = mem_count,
                                    .close = mem_close,
                                    .name = "django:sqlite:/unit/source.db"};
    return s;
}

/* An ordinary account: integer id i + 1, a verifiable hash, a valid profile. */
static void plain_row(size_t i, struct import_row *r)
{
    snprintf(r->id, sizeof r->id, "%zu", i + 1);
    snprintf(r->email, sizeof r->email, "user%zu@example.com", i);
    strcpy(r->password, PBKDF2);
    strcpy(r->first_name, "Ada");
    strcpy(r->last_name, "Lovelace");
    r->is_active = true;
    r->date_joined = 1600000000;
    r->has_profile = true;
    strcpy(r->phone_number, "+15550000000");
}

static gh_status run_import(struct core_fixture *f, struct mem_source *s, bool dry_run,
                            struct import_report *rep)
{
    struct import_options opt = {.kind = IMPORT_DJANGO, .dry_run = dry_run};
    s->next = 0;
    return import_run(&f->app, &s->base, &opt, rep);
}

static void test_import_batches_then_a_second_run_is_a_no_op(void **state)
{
    struct core_fixture *f = *state;
    struct mem_source s = mem_source(2 * IMPORT_BATCH + 500, plain_row);
    struct import_report rep;
    assert_int_equal(run_import(f, &s, false, &rep), GH_OK);
    assert_int_equal(rep.read, 2500);
    assert_int_equal(rep.imported, 2500);
    assert_int_equal(rep.ids_new, 2500);
    assert_int_equal(rep.schemes[HASH_PBKDF2_SHA256], 2500);
    assert_int_equal(rep.resets, 0);
    import_report_free(&rep);
    assert_int_equal(count_rows(f, "users"), 2500);
    assert_int_equal(count_rows(f, "import_id_map WHERE source = 'django:sqlite:/unit/source.db'"),
                     2500);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'import'"), 1);
    /* the integer id's new UUID is in the map */
    char user_id[UUID_LEN + 1];
    assert_int_equal(f->app.store->import_map_get(f->app.store, s.base.name, "1", user_id), GH_OK);
    assert_string_equal(user_at(f, "user0@example.com").id, user_id);

    assert_int_equal(run_import(f, &s, false, &rep), GH_OK);
    assert_int_equal(rep.read, 2500);
    assert_int_equal(rep.imported, 0);
    assert_int_equal(rep.skipped[SKIP_ALREADY_IMPORTED], 2500);
    import_report_free(&rep);
    assert_int_equal(count_rows(f, "users"), 2500);
}

static void test_import_dry_run_writes_nothing_and_reports_the_same(void **state)
{
    struct core_fixture *f = *state;
    struct mem_source s = mem_source(IMPORT_BATCH + 10, plain_row);
    struct import_report dry, real;
    assert_int_equal(run_import(f, &s, true, &dry), GH_OK);
    assert_int_equal(count_rows(f, "users"), 0);
    assert_int_equal(count_rows(f, "import_id_map"), 0);
    assert_int_equal(count_rows(f, "audit_log"), 0);
    assert_int_equal(run_import(f, &s, false, &real), GH_OK);
    assert_int_equal(dry.read, real.read);
    assert_int_equal(dry.imported, real.imported);
    assert_int_equal(dry.imported, IMPORT_BATCH + 10);
    assert_memory_equal(dry.skipped, real.skipped, sizeof dry.skipped);
    assert_memory_equal(dry.schemes, real.schemes, sizeof dry.schemes);
    import_report_free(&dry);
    import_report_free(&real);
    assert_int_equal(count_rows(f, "users"), IMPORT_BATCH + 10);
}

/* The database fails in the middle of the second batch: the first stays, nothing of the second
 * does; the run can be repeated and finishes the job. */
static void test_import_failing_batch_leaves_the_ones_before_and_nothing_of_itself(void **state)
{
    struct core_fixture *f = *state;
    struct mem_source s = mem_source(2 * IMPORT_BATCH + 500, plain_row);
    struct import_report rep;
    fake_db_fail(f->db, FAKE_MEMBER(user_insert), IMPORT_BATCH + 300, 1, GH_UNAVAILABLE);
    assert_int_equal(run_import(f, &s, false, &rep), GH_UNAVAILABLE);
    assert_int_equal(rep.imported, IMPORT_BATCH);
    import_report_free(&rep);
    assert_int_equal(count_rows(f, "users"), IMPORT_BATCH);
    assert_int_equal(count_rows(f, "import_id_map"), IMPORT_BATCH);
    assert_int_equal(count_rows(f, "audit_log WHERE event = 'import'"), 0);
    fake_db_heal(f->db);
    assert_int_equal(run_import(f, &s, false, &rep), GH_OK);
    assert_int_equal(rep.skipped[SKIP_ALREADY_IMPORTED], IMPORT_BATCH);
    assert_int_equal(rep.imported, IMPORT_BATCH + 500);
    import_report_free(&rep);
    assert_int_equal(count_rows(f, "users"), 2 * IMPORT_BATCH + 500);
}

/* A busy database makes the batch start over: every row is still counted once. */
static void test_import_busy_batch_is_retried_and_counted_once(void **state)
{
    struct core_fixture *f = *state;
    struct mem_source s = mem_source(IMPORT_BATCH + 20, plain_row);
    struct import_report rep;
    fake_db_fail(f->db, FAKE_MEMBER(user_insert), 500, 2, GH_BUSY);
    assert_int_equal(run_import(f, &s, false, &rep), GH_OK);
    assert_int_equal(rep.read, IMPORT_BATCH + 20);
    assert_int_equal(rep.imported, IMPORT_BATCH + 20);
    assert_int_equal(rep.schemes[HASH_PBKDF2_SHA256], IMPORT_BATCH + 20);
    assert_int_equal((int64_t)json_array_size(rep.skipped_rows), 0);
    import_report_free(&rep);
    assert_int_equal(count_rows(f, "users"), IMPORT_BATCH + 20);
}

/* Row i of the edge cases below. */
static void edge_row(size_t i, struct import_row *r)
{
    plain_row(i, r);
    switch (i) {
    case 0: /* a UUID id, kept */
        strcpy(r->id, UUID_A);
        break;
    case 1: /* Django's 32 hex digits, kept as a UUID */
        strcpy(r->id, "0A1B2C3D4E5F40718293A4B5C6D7E8F9");
        break;
    case 2: /* shared in the source, in another case */
    case 3:
        strcpy(r->email, i == 2 ? "Shared@Example.com" : " shared@example.com\t");
        break;
    case 4: /* gatehouse has it already */
        strcpy(r->email, "ADA@example.com");
        break;
    case 5:
        strcpy(r->email, "not an address");
        break;
    case 6:
        strcpy(r->id, "not-an-id");
        break;
    case 7: /* staff: dropped */
        r->is_staff = r->is_superuser = true;
        break;
    case 8: /* refused fields: dropped, the account imported */
        strcpy(r->first_name, "Bad\x01Name");
        strcpy(r->phone_number, "12345");
        strcpy(r->github_link, "ftp://github.com/files");
        break;
    case 9:
        strcpy(r->password, "!unusable");
        break;
    case 10:
        strcpy(r->password,
               "pbkdf2_sha256$999$c2FsdHNhbHQ$3sGnkXPYEP0b0bbX0Pj4ZxPZ4jbj0mXhT1PkBv1oM0Q=");
        break;
    case 11:
        strcpy(r->password, "md5$salt$0123456789abcdef0123456789abcdef");
        break;
    default:
        break;
    }
}

static const char *const edge_duplicates[] = {"shared@example.com", NULL};

static void test_import_judges_each_row(void **state)
{
    struct core_fixture *f = *state;
    create_account(f, ADA, ADA_PASSWORD);
    struct mem_source s = mem_source(12, edge_row);
    s.duplicates = edge_duplicates;
    struct import_report rep;
    assert_int_equal(run_import(f, &s, false, &rep), GH_OK);
    assert_int_equal(rep.read, 12);
    assert_int_equal(rep.imported, 7);
    assert_int_equal(rep.skipped[SKIP_DUPLICATE_IN_SOURCE], 2);
    assert_int_equal(rep.skipped[SKIP_EMAIL_EXISTS], 1);
    assert_int_equal(rep.skipped[SKIP_INVALID_EMAIL], 1);
    assert_int_equal(rep.skipped[SKIP_INVALID_ID], 1);
    assert_int_equal(rep.ids_kept, 2);
    assert_int_equal(rep.ids_new, 5);
    assert_int_equal(rep.staff_dropped, 1);
    assert_int_equal(rep.fields_dropped[FIELD_FIRST_NAME], 1);
    assert_int_equal(rep.fields_dropped[FIELD_PHONE_NUMBER], 1);
    assert_int_equal(rep.fields_dropped[FIELD_GITHUB_LINK], 1);
    assert_int_equal(rep.resets, 3);
    assert_int_equal(rep.reset_reasons[HASH_NO_PASSWORD], 1);
    assert_int_equal(rep.reset_reasons[HASH_OUT_OF_BOUNDS], 1);
    assert_int_equal(rep.reset_reasons[HASH_UNKNOWN_SCHEME], 1);
    import_report_free(&rep);

    assert_string_equal(user_at(f, "user0@example.com").id, UUID_A);
    assert_string_equal(user_at(f, "user1@example.com").id, "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9");
    assert_int_equal(count_rows(f, "users WHERE email = 'shared@example.com'"), 0);
    /* the account gatehouse had is untouched */
    assert_int_equal(count_rows(f, "users WHERE email = 'ada@example.com'"), 1);
    struct user staff = user_at(f, "user7@example.com");
    assert_false(staff.is_staff || staff.is_superuser);
    struct user dropped = user_at(f, "user8@example.com");
    assert_string_equal(dropped.first_name, "");
    assert_string_equal(dropped.last_name, "Lovelace");
    assert_string_equal(dropped.profile.phone_number, "");
    assert_string_equal(dropped.profile.github_link, "");
    /* hashes stored as they were */
    assert_string_equal(user_at(f, "user9@example.com").password_hash, "!unusable");
    assert_string_equal(user_at(f, "user7@example.com").password_hash, PBKDF2);
}

static void test_import_keep_staff(void **state)
{
    struct core_fixture *f = *state;
    struct mem_source s = mem_source(12, edge_row);
    s.duplicates = edge_duplicates;
    struct import_options opt = {.kind = IMPORT_DJANGO, .keep_staff = true};
    struct import_report rep;
    assert_int_equal(import_run(&f->app, &s.base, &opt, &rep), GH_OK);
    assert_int_equal(rep.staff_kept, 1);
    assert_int_equal(rep.staff_dropped, 0);
    json_t *report = import_report_json(&rep, &opt, s.base.name, 0.5);
    assert_non_null(report);
    assert_true(json_is_true(json_object_get(report, "keep_staff")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(report, "staff"), "kept")),
                     1);
    json_decref(report);
    import_report_free(&rep);
    struct user staff = user_at(f, "user7@example.com");
    assert_true(staff.is_staff && staff.is_superuser);
}

/* Argon2id with other costs than the configured ones (t=1, m=8192), as rust-auth's are. */
static char other_cost[PASSWORD_HASH_MAX];

static void other_cost_row(size_t i, struct import_row *r)
{
    plain_row(i, r);
    strcpy(r->password, i % 2 ? PBKDF2 : other_cost);
}

/* Imported hashes of other schemes and costs turn the timing pad on, with a floor measured from
 * the costliest (the scan's page is gone by then: the measurement must not read it). */
static void test_import_turns_the_login_pad_on(void **state)
{
    struct core_fixture *f = *state;
    assert_int_equal(password_hash("an old password 1", 2, 8192, other_cost, sizeof other_cost),
                     GH_OK);
    assert_int_equal(login_pad_open(&f->app.login_pad), GH_OK);
    assert_int_equal(login_pad_refresh(&f->app), GH_OK);
    assert_int_equal(login_pad_floor_us(&f->app), 0);
    struct mem_source s = mem_source(600, other_cost_row);
    struct import_report rep;
    assert_int_equal(run_import(f, &s, false, &rep), GH_OK);
    import_report_free(&rep);
    assert_int_equal(login_pad_refresh(&f->app), GH_OK);
    assert_int_equal(login_pad_legacy_count(&f->app), 600);
    assert_true(login_pad_floor_us(&f->app) > 0);
    assert_true(login_pad_until(&f->app, 1000) > 1000);
    login_pad_close(&f->app.login_pad);
}

struct early_check {
    struct core_fixture *f;
    atomic_bool done;
    int64_t until;
};

static void *check_password_early(void *arg)
{
    struct early_check *c = arg;
    c->until = login_pad_until(&c->f->app, 1000);
    atomic_store(&c->done, true);
    return NULL;
}

/* A password check that comes before the first count after start (the housekeeping thread makes
 * it) waits for that count, so even the first answers are padded. */
static void test_a_check_before_the_first_count_waits_for_it(void **state)
{
    struct core_fixture *f = *state;
    struct early_check c = {.f = f};
    struct mem_source s = mem_source(3, other_cost_row);
    struct import_report rep;
    pthread_t t;
    assert_int_equal(password_hash("an old password 1", 2, 8192, other_cost, sizeof other_cost),
                     GH_OK);
    assert_int_equal(run_import(f, &s, false, &rep), GH_OK);
    import_report_free(&rep);
    assert_int_equal(login_pad_open(&f->app.login_pad), GH_OK);
    assert_int_equal(pthread_create(&t, NULL, check_password_early, &c), 0);
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_false(atomic_load(&c.done));
    assert_int_equal(login_pad_refresh(&f->app), GH_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(atomic_load(&c.done));
    assert_true(c.until > 1000);
    login_pad_close(&f->app.login_pad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_batches_then_a_second_run_is_a_no_op,
                                        core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_import_dry_run_writes_nothing_and_reports_the_same,
                                        core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(
            test_import_failing_batch_leaves_the_ones_before_and_nothing_of_itself, core_setup,
            core_teardown),
        cmocka_unit_test_setup_teardown(test_import_busy_batch_is_retried_and_counted_once,
                                        core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_import_judges_each_row, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_import_keep_staff, core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_a_check_before_the_first_count_waits_for_it,
                                        core_setup, core_teardown),
        cmocka_unit_test_setup_teardown(test_import_turns_the_login_pad_on, core_setup,
                                        core_teardown),
    };
    return cmocka_run_group_tests(tests, core_group_setup, core_group_teardown);
}
