/* Mail formatting (RFC 5322, multipart/alternative) and template rendering (mail/mail.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/mail.h"

static int setup_sodium(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

#define FROM "Gatehouse <noreply@auth.example.com>"

static struct mail sample_mail(const char *subject, const char *text, const char *html)
{
    struct mail m = {0};
    strcpy(m.recipient, "ada@example.com");
    m.subject = (char *)subject;
    m.text_body = (char *)text;
    m.html_body = (char *)html;
    return m;
}

static void format_ok(const struct mail *m, struct buf *out)
{
    *out = (struct buf){0};
    assert_int_equal(mail_format(FROM, m, out), GH_OK);
    assert_non_null(out->data);
}

/* Copies the boundary parameter of the Content-Type header into b. */
static void boundary_of(const char *msg, char *b, size_t cap)
{
    const char *p = strstr(msg, "Content-Type: multipart/alternative; boundary=\"");
    assert_non_null(p);
    p = strchr(p, '"') + 1;
    size_t n = strcspn(p, "\"");
    assert_true(n > 0 && n < cap);
    memcpy(b, p, n);
    b[n] = '\0';
}

static void test_mail_format_uses_crlf_line_ends(void **state)
{
    (void)state;
    struct mail m =
        sample_mail("Hello", "line one\nline two\r\nline three\n", "<p>x</p>\n<p>y</p>");
    struct buf out;
    format_ok(&m, &out);
    for (size_t i = 0; i < out.len; i++) {
        if (out.data[i] == '\n')
            assert_true(i > 0 && out.data[i - 1] == '\r');
        if (out.data[i] == '\r')
            assert_true(out.data[i + 1] == '\n');
    }
    assert_non_null(strstr(out.data, "line one\r\nline two\r\nline three\r\n"));
    assert_null(strstr(out.data, "\r\r\n"));
    buf_free(&out);
}

static void test_mail_format_headers(void **state)
{
    (void)state;
    struct mail m = sample_mail("Hello", "text", "<p>html</p>");
    struct buf out;
    format_ok(&m, &out);
    assert_non_null(strstr(out.data, "\r\nFrom: " FROM "\r\n"));
    assert_non_null(strstr(out.data, "\r\nTo: ada@example.com\r\n"));
    assert_non_null(strstr(out.data, "\r\nSubject: Hello\r\n"));
    assert_non_null(strstr(out.data, "\r\nMIME-Version: 1.0\r\n"));
    assert_non_null(strstr(out.data, "@auth.example.com>\r\n"));
    assert_true(strncmp(out.data, "Date: ", 6) == 0);
    /* Headers end with one blank line before the first part. */
    const char *blank = strstr(out.data, "\r\n\r\n");
    assert_non_null(blank);
    assert_non_null(strstr(out.data, "Content-Type: multipart/alternative"));
    assert_true(strstr(out.data, "Content-Type: multipart/alternative") < blank);
    buf_free(&out);
}

static void test_mail_format_is_multipart_alternative_text_then_html(void **state)
{
    (void)state;
    struct mail m = sample_mail("Hello", "the text part", "<p>the html part</p>");
    struct buf out;
    char b[128], open[160], close[160];
    format_ok(&m, &out);
    boundary_of(out.data, b, sizeof b);
    snprintf(open, sizeof open, "\r\n--%s\r\n", b);
    snprintf(close, sizeof close, "\r\n--%s--\r\n", b);
    const char *p1 = strstr(out.data, open);
    assert_non_null(p1);
    const char *p2 = strstr(p1 + 1, open);
    assert_non_null(p2);
    const char *end = strstr(out.data, close);
    assert_non_null(end);
    assert_true(p1 < p2 && p2 < end);
    /* The closing delimiter ends the message. */
    assert_string_equal(end, close);
    const char *plain = strstr(p1, "Content-Type: text/plain; charset=utf-8\r\n");
    const char *html = strstr(p2, "Content-Type: text/html; charset=utf-8\r\n");
    assert_true(plain && plain < p2);
    assert_true(html && html < end);
    const char *text_body = strstr(p1, "\r\n\r\nthe text part\r\n");
    assert_true(text_body && text_body < p2);
    const char *html_body = strstr(p2, "\r\n\r\n<p>the html part</p>\r\n");
    assert_true(html_body && html_body < end);
    buf_free(&out);
}

static void test_mail_format_boundary_differs_per_message(void **state)
{
    (void)state;
    struct mail m = sample_mail("Hello", "text", "<p>html</p>");
    struct buf o1, o2;
    char b1[128], b2[128];
    format_ok(&m, &o1);
    format_ok(&m, &o2);
    boundary_of(o1.data, b1, sizeof b1);
    boundary_of(o2.data, b2, sizeof b2);
    assert_string_not_equal(b1, b2);
    buf_free(&o1);
    buf_free(&o2);
}

static void test_mail_format_encodes_non_ascii_subject(void **state)
{
    (void)state;
    const char *subject = "Best\xc3\xa4tigen Sie Ihre Adresse \xe2\x9c\x93";
    struct mail m = sample_mail(subject, "text", "<p>html</p>");
    struct buf out;
    format_ok(&m, &out);
    const char *h = strstr(out.data, "\r\nSubject: =?UTF-8?B?");
    assert_non_null(h);
    h += strlen("\r\nSubject: =?UTF-8?B?");
    size_t n = strcspn(h, "?");
    assert_true(strncmp(h + n, "?=\r\n", 4) == 0);
    unsigned char decoded[128];
    size_t dlen = 0;
    assert_int_equal(sodium_base642bin(decoded, sizeof decoded, h, n, NULL, &dlen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(dlen, strlen(subject));
    assert_memory_equal(decoded, subject, dlen);
    /* No raw 8-bit byte in any header. */
    const char *body = strstr(out.data, "\r\n\r\n");
    for (const char *p = out.data; p < body; p++)
        assert_true((unsigned char)*p < 0x80);
    buf_free(&out);
}

/* A subject that is not UTF-8 (only continuation bytes, as a broken template could hold) is
 * still encoded, in words of at most 45 bytes, instead of looping forever. */
static void test_mail_format_subject_of_continuation_bytes_ends(void **state)
{
    (void)state;
    char subject[101];
    memset(subject, 0x80, 100);
    subject[100] = '\0';
    struct mail m = sample_mail(subject, "text", "<p>html</p>");
    struct buf out;
    format_ok(&m, &out);
    const char *h = strstr(out.data, "\r\nSubject: =?UTF-8?B?");
    assert_non_null(h);
    size_t words = 0;
    for (const char *p = h; (p = strstr(p, "=?UTF-8?B?")) && p < strstr(h, "\r\n\r\n"); p++)
        words++;
    assert_int_equal(words, 3); /* 45 + 45 + 10 bytes */
    buf_free(&out);
}

static void test_mail_format_keeps_long_link_on_its_own_line(void **state)
{
    (void)state;
    char link[400], text[600], want[420];
    int n = snprintf(link, sizeof link, "https://auth.example.com/users/register/confirm?token=");
    for (; n < 300; n++)
        link[n] = (char)('a' + n % 26);
    link[n] = '\0';
    snprintf(text, sizeof text, "Hello Ada,\n\nOpen this link:\n\n%s\n\nThanks.", link);
    struct mail m = sample_mail("Confirm", text, "<p>html</p>");
    struct buf out;
    format_ok(&m, &out);
    snprintf(want, sizeof want, "\r\n%s\r\n", link);
    assert_non_null(strstr(out.data, want));
    assert_non_null(strstr(out.data, "Content-Transfer-Encoding: 8bit"));
    buf_free(&out);
}

static void test_mail_format_keeps_utf8_body_bytes(void **state)
{
    (void)state;
    struct mail m = sample_mail("Hi",
                                "Gr\xc3\xbc\xc3\x9f"
                                "e",
                                "<p>Gr\xc3\xbc\xc3\x9f"
                                "e</p>");
    struct buf out;
    format_ok(&m, &out);
    assert_non_null(strstr(out.data, "\r\n\r\nGr\xc3\xbc\xc3\x9f"
                                     "e\r\n"));
    buf_free(&out);
}

/* ---- rendering ---- */

#define LINK "https://auth.example.com/users/register/confirm?token=abcDEF123_-xyz&lang=en"

static const struct mail_var confirm_vars[] = {
    {"first_name", "<b>Ada</b>"},
    {"link", LINK},
    {"expires", "30 minutes"},
};

static void test_mail_render_confirm_subject(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct mail m = {0};
    assert_int_equal(mail_render(&cfg, "confirm", confirm_vars, 3, &m), GH_OK);
    assert_non_null(m.subject);
    assert_true(strlen(m.subject) > 0);
    assert_null(strchr(m.subject, '\n'));
    assert_null(strchr(m.subject, '\r'));
    assert_null(strstr(m.subject, "Subject:"));
    assert_true(m.subject[0] != ' ');
    mail_clear(&m);
}

static void test_mail_render_confirm_text_has_link_on_its_own_line(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct mail m = {0};
    assert_int_equal(mail_render(&cfg, "confirm", confirm_vars, 3, &m), GH_OK);
    assert_non_null(m.text_body);
    assert_non_null(strstr(m.text_body, "\n" LINK "\n"));
    assert_null(strstr(m.text_body, "Subject:"));
    assert_null(strstr(m.text_body, "{{"));
    assert_non_null(strstr(m.text_body, "30 minutes"));
    /* Plain text is not HTML: the name appears as given. */
    assert_non_null(strstr(m.text_body, "<b>Ada</b>"));
    assert_true(m.text_body[0] != '\n');
    mail_clear(&m);
}

static void test_mail_render_confirm_html_escapes_values(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct mail m = {0};
    assert_int_equal(mail_render(&cfg, "confirm", confirm_vars, 3, &m), GH_OK);
    assert_non_null(m.html_body);
    assert_non_null(strstr(m.html_body, "&lt;b&gt;Ada&lt;/b&gt;"));
    assert_null(strstr(m.html_body, "<b>Ada"));
    /* The link's & is escaped inside the HTML, so the href decodes back to the link. */
    assert_non_null(strstr(m.html_body, "token=abcDEF123_-xyz&amp;lang=en"));
    assert_null(strstr(m.html_body, "{{"));
    mail_clear(&m);
}

static void test_mail_render_escapes_quotes_in_html(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    const struct mail_var vars[] = {
        {"first_name", "O'Neil \"Jack\""},
        {"link", "https://x.example/\"><script>alert(1)</script>"},
        {"expires", "30 minutes"},
    };
    struct mail m = {0};
    assert_int_equal(mail_render(&cfg, "confirm", vars, 3, &m), GH_OK);
    assert_null(strstr(m.html_body, "<script>"));
    assert_null(strstr(m.html_body, "x.example/\""));
    assert_non_null(strstr(m.html_body, "x.example/&quot;&gt;&lt;script&gt;"));
    assert_non_null(strstr(m.html_body, "O&#39;Neil &quot;Jack&quot;"));
    mail_clear(&m);
}

static void test_mail_render_unknown_template_not_found(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct mail m = {0};
    assert_int_equal(mail_render(&cfg, "no-such-template", confirm_vars, 3, &m), GH_NOT_FOUND);
    assert_null(m.subject);
    assert_null(m.text_body);
    assert_null(m.html_body);
}

static void test_mail_render_override_directory(void **state)
{
    (void)state;
    char dir[64] = "/tmp/gh-mail-test-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/confirm.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("Subject: Custom {{first_name}}\n\nCustom body {{link}} {{unknown}}\n", f);
    fclose(f);
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.mail_templates_dir, dir);
    struct mail m = {0};
    gh_status st = mail_render(&cfg, "confirm", confirm_vars, 3, &m);
    unlink(path);
    rmdir(dir);
    assert_int_equal(st, GH_OK);
    assert_string_equal(m.subject, "Custom <b>Ada</b>");
    assert_string_equal(m.text_body, "Custom body " LINK " {{unknown}}\n");
    /* No confirm.html in the directory: the built-in one is used. */
    assert_non_null(strstr(m.html_body, "&lt;b&gt;Ada&lt;/b&gt;"));
    mail_clear(&m);
}

static void test_mail_rendered_message_formats(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct mail m = {0};
    struct buf out;
    assert_int_equal(mail_render(&cfg, "confirm", confirm_vars, 3, &m), GH_OK);
    strcpy(m.recipient, "ada@example.com");
    format_ok(&m, &out);
    assert_non_null(strstr(out.data, "\r\n" LINK "\r\n"));
    buf_free(&out);
    mail_clear(&m);
}

/* ---- the outbox row in the message and in the file name ---- */

static void test_mail_format_message_id_and_date_come_from_the_outbox_row(void **state)
{
    (void)state;
    struct mail m = sample_mail("Hello", "text", "<p>html</p>");
    m.id = 42;
    m.created_at = 1700000000; /* 2023-11-14T22:13:20Z, a Tuesday */
    struct buf o1, o2;
    format_ok(&m, &o1);
    format_ok(&m, &o2);
    /* Sent twice (a crash between writing and marking it sent): the same message twice. */
    const char *id = "\r\nMessage-ID: <gatehouse.42.1700000000@auth.example.com>\r\n";
    assert_non_null(strstr(o1.data, id));
    assert_non_null(strstr(o2.data, id));
    assert_true(strncmp(o1.data, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n", 39) == 0);
    assert_true(strncmp(o2.data, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n", 39) == 0);
    buf_free(&o2);
    /* Another row, another Message-ID. */
    m.id = 43;
    format_ok(&m, &o2);
    assert_null(strstr(o2.data, id));
    assert_non_null(strstr(o2.data, "\r\nMessage-ID: <gatehouse.43.1700000000@auth.example.com>"));
    buf_free(&o1);
    buf_free(&o2);
}

/* The names in dir, sorted as `ls` sorts them (bytewise); returns how many. */
static size_t list_dir(const char *dir, char names[][256], size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        assert_true(n < cap);
        snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    return n;
}

static void remove_dir(const char *dir)
{
    char names[32][256], path[384];
    size_t n = list_dir(dir, names, 32);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void send_ok(struct mail_transport *t, int64_t id, int64_t created_at)
{
    char err[256] = "";
    struct mail m = sample_mail("Hello", "text", "<p>html</p>");
    m.id = id;
    m.created_at = created_at;
    assert_int_equal(t->send(t, FROM, &m, err, sizeof err), GH_OK);
}

static void test_mail_file_resend_replaces_its_own_file(void **state)
{
    (void)state;
    char dir[64] = "/tmp/gh-mail-file-XXXXXX", names[32][256];
    assert_non_null(mkdtemp(dir));
    struct mail_transport *t = NULL;
    assert_int_equal(mail_file_open(dir, &t), GH_OK);
    send_ok(t, 7, 1700000000);
    send_ok(t, 7, 1700000000); /* written again: the row was not marked sent before a crash */
    size_t n = list_dir(dir, names, 32);
    assert_int_equal(n, 1); /* one file, no temporary left */
    assert_string_equal(names[0], "0000000000000000007-1700000000.eml");
    t->close(t);
    remove_dir(dir);
}

static void test_mail_file_names_sort_in_row_order(void **state)
{
    (void)state;
    char dir[64] = "/tmp/gh-mail-file-XXXXXX", names[32][256];
    assert_non_null(mkdtemp(dir));
    struct mail_transport *t = NULL;
    assert_int_equal(mail_file_open(dir, &t), GH_OK);
    /* Sent out of order, and with creation times that go backwards (a clock step). */
    send_ok(t, 100, 1700000000);
    send_ok(t, 9, 1700000500);
    send_ok(t, 1000000000000, 1600000000);
    send_ok(t, 10, 1700000001);
    assert_int_equal(list_dir(dir, names, 32), 4);
    assert_string_equal(names[0], "0000000000000000009-1700000500.eml");
    assert_string_equal(names[1], "0000000000000000010-1700000001.eml");
    assert_string_equal(names[2], "0000000000000000100-1700000000.eml");
    assert_string_equal(names[3], "0000001000000000000-1600000000.eml");
    t->close(t);
    remove_dir(dir);
}

static void test_mail_file_open_removes_stale_temporaries(void **state)
{
    (void)state;
    char dir[64] = "/tmp/gh-mail-file-XXXXXX", path[128], names[32][256];
    assert_non_null(mkdtemp(dir));
    const char *files[] = {".0000000000000000001-1700000000.eml.0a1b.tmp", ".123-456.tmp",
                           "0000000000000000002-1700000000.eml"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("partial", f);
        fclose(f);
    }
    struct mail_transport *t = NULL;
    assert_int_equal(mail_file_open(dir, &t), GH_OK);
    assert_int_equal(list_dir(dir, names, 32), 1);
    assert_string_equal(names[0], "0000000000000000002-1700000000.eml");
    t->close(t);
    remove_dir(dir);
}

static void test_mail_file_ready_probes_the_directory(void **state)
{
    (void)state;
    char dir[64] = "/tmp/gh-mail-file-XXXXXX", names[32][256];
    assert_non_null(mkdtemp(dir));
    struct mail_transport *t = NULL;
    assert_int_equal(mail_file_open(dir, &t), GH_OK);
    assert_non_null(t->ready);
    assert_int_equal(t->ready(t), GH_OK);
    assert_int_equal(list_dir(dir, names, 32), 0); /* the probe file is gone again */
    t->close(t);
    /* A directory that cannot exist (below a character device) does not accept files. */
    assert_int_equal(mail_file_open("/dev/null/mail", &t), GH_OK);
    assert_int_not_equal(t->ready(t), GH_OK);
    t->close(t);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail_format_uses_crlf_line_ends),
        cmocka_unit_test(test_mail_format_message_id_and_date_come_from_the_outbox_row),
        cmocka_unit_test(test_mail_file_resend_replaces_its_own_file),
        cmocka_unit_test(test_mail_file_names_sort_in_row_order),
        cmocka_unit_test(test_mail_file_open_removes_stale_temporaries),
        cmocka_unit_test(test_mail_file_ready_probes_the_directory),
        cmocka_unit_test(test_mail_format_headers),
        cmocka_unit_test(test_mail_format_is_multipart_alternative_text_then_html),
        cmocka_unit_test(test_mail_format_boundary_differs_per_message),
        cmocka_unit_test(test_mail_format_encodes_non_ascii_subject),
        cmocka_unit_test(test_mail_format_subject_of_continuation_bytes_ends),
        cmocka_unit_test(test_mail_format_keeps_long_link_on_its_own_line),
        cmocka_unit_test(test_mail_format_keeps_utf8_body_bytes),
        cmocka_unit_test(test_mail_render_confirm_subject),
        cmocka_unit_test(test_mail_render_confirm_text_has_link_on_its_own_line),
        cmocka_unit_test(test_mail_render_confirm_html_escapes_values),
        cmocka_unit_test(test_mail_render_escapes_quotes_in_html),
        cmocka_unit_test(test_mail_render_unknown_template_not_found),
        cmocka_unit_test(test_mail_render_override_directory),
        cmocka_unit_test(test_mail_rendered_message_formats),
    };
    return cmocka_run_group_tests_name("mail", tests, setup_sodium, NULL);
}
