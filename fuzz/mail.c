/* libFuzzer target for mail rendering and formatting with hostile names (mail/render.c,
 * mail/message.c). The input holds up to four NUL-separated fields: first name, last name,
 * email, and a subject. They are rendered as received (memory safety only), then as gatehouse
 * really renders them — names and email normalised by core/email.c first — into every built-in
 * template and into a template with the names in its Subject, and the formatted messages are
 * checked: no header injected, the link on a line of its own, nothing unescaped in the HTML. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/email.h"
#include "records.h"
#include "core/password.h"
#include "mail/mail.h"
#include "util/secret.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static char templates_dir[4096];

/* An operator's template that puts the client's text into the Subject header. */
static const char custom_txt[] = "Subject: Welcome, {{first_name}} {{last_name}} <{{email}}>\n"
                                 "\n"
                                 "Hello {{first_name}} {{last_name}},\n"
                                 "\n"
                                 "{{link}}\n";
static const char custom_html[] = "<p>Hello {{first_name}} {{last_name}} ({{email}})</p>\n"
                                  "<p><a href=\"{{link}}\">{{link}}</a></p>\n";

static const char *const template_names[] = {"confirm", "reset", "password_changed", "custom"};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz/mail: %s\n", what);
        abort();
    }
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_templates(void)
{
    nftw(templates_dir, remove_entry, 4, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", templates_dir, name);
    FILE *f = fopen(path, "w");
    check(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write a template");
}

static const char *settings_lookup(void *ctx, const char *name)
{
    (void)ctx;
    if (!strcmp(name, "GATEHOUSE_MAIL_TEMPLATES_DIR"))
        return templates_dir;
    if (!strcmp(name, "GATEHOUSE_PUBLIC_URL"))
        return "https://auth.example.com";
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    (void)argc;
    (void)argv;
    check(sodium_init() >= 0, "cannot initialise libsodium");
    const char *tmp = getenv("TMPDIR");
    snprintf(templates_dir, sizeof templates_dir, "%s/gatehouse-fuzz-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    check(mkdtemp(templates_dir) != NULL, "cannot create a temporary directory");
    atexit(remove_templates);
    write_file("custom.txt", custom_txt);
    write_file("custom.html", custom_html);
    check(config_load(&cfg, settings_lookup, NULL, err, sizeof err) == GH_OK, err);
    return 0;
}

/* The next NUL-terminated field of the input, or "" when the input is used up. */
static const char *next_field(const char **p, const char *end)
{
    if (*p >= end)
        return "";
    const char *field = *p;
    *p += strlen(field) + 1;
    return field;
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static size_t count_bytes(const char *s, const char *set)
{
    size_t n = 0;
    for (; *s; s++)
        n += strchr(set, *s) != NULL;
    return n;
}

/* Finds line i (without its CRLF) of the CRLF-terminated lines of text that end before end;
 * false past the last one. */
static bool line_at(const char *text, const char *end, size_t i, const char **start, size_t *len)
{
    const char *p = text;
    for (;;) {
        const char *crlf = strstr(p, "\r\n");
        if (!crlf || crlf >= end)
            return false;
        if (i-- == 0) {
            *start = p;
            *len = (size_t)(crlf - p);
            return true;
        }
        p = crlf + 2;
    }
}

/* Decodes the RFC 2047 words of a Subject header (lines after the first start with a space)
 * and checks they give back subject, each word whole UTF-8 characters. */
static void check_encoded_subject(const char *header, size_t len, const char *subject)
{
    char decoded[4096];
    size_t total = 0;
    const char *p = header, *end = header + len;
    while ((p = strstr(p, "=?UTF-8?B?")) && p < end) {
        p += 10;
        const char *q = strstr(p, "?=");
        check(q && q < end, "an encoded word without its end");
        check(q - p + 12 <= 75, "an encoded word longer than 75 characters");
        unsigned char word[128];
        size_t n = 0;
        check(sodium_base642bin(word, sizeof word - 1, p, (size_t)(q - p), NULL, &n, NULL,
                                sodium_base64_VARIANT_ORIGINAL) == 0,
              "an encoded word that is not base64");
        word[n] = '\0';
        check(utf8_is_valid((const char *)word), "an encoded word cut inside a character");
        check(total + n < sizeof decoded, "the decoded subject is too long");
        memcpy(decoded + total, word, n);
        total += n;
        p = q + 2;
    }
    decoded[total] = '\0';
    check(!strcmp(decoded, subject), "the encoded subject does not decode to the subject");
}

/* Checks one formatted message: the header block holds exactly the headers mail_format writes,
 * each once, on CRLF lines (continuations start with a space); To is the recipient; the parts
 * are delimited by the boundary only; the text part has the link on a line of its own. */
static void check_message(const struct buf *msg, const struct mail *m, const char *link)
{
    static const char *const headers[] = {
        "Date: ", "From: ", "To: ", "Message-ID: ", "Subject:", "MIME-Version: ", "Content-Type: "};
    size_t seen[sizeof headers / sizeof headers[0]] = {0};
    const char *text = msg->data;
    const char *head_end = strstr(text, "\r\n\r\n");
    check(head_end != NULL, "no end of the header block");
    head_end += 2; /* keep the last header's CRLF */
    for (const char *c = text; c < head_end; c++)
        check((*c != '\r' || c[1] == '\n') && (*c != '\n' || (c > text && c[-1] == '\r')),
              "a bare CR or LF in the header block");
    const char *line;
    size_t len;
    size_t last = 0;
    for (size_t i = 0; line_at(text, head_end, i, &line, &len); i++) {
        check(len <= 998, "a header line longer than 998 characters");
        if (line[0] == ' ') {
            check(i > 0 && !strncmp(headers[last], "Subject:", 8),
                  "a continuation line outside the Subject");
            continue;
        }
        size_t h = 0;
        while (h < sizeof headers / sizeof headers[0] &&
               strncmp(line, headers[h], strlen(headers[h])))
            h++;
        check(h < sizeof headers / sizeof headers[0], "an unexpected header line");
        seen[h]++;
        last = h;
        if (!strcmp(headers[h], "To: "))
            check(len == 4 + strlen(m->recipient) && !strncmp(line + 4, m->recipient, len - 4),
                  "the To header is not the recipient");
        if (!strcmp(headers[h], "Subject:")) {
            const char *end = head_end;
            /* the Subject and its continuation lines */
            const char *next = line + len + 2;
            while (next < end && *next == ' ')
                next = strstr(next, "\r\n") + 2;
            if (!is_ascii(m->subject))
                check_encoded_subject(line, (size_t)(next - line), m->subject);
            else
                check(len == 9 + strlen(m->subject) && !strncmp(line + 9, m->subject, len - 9),
                      "the Subject header is not the subject");
        }
    }
    for (size_t h = 0; h < sizeof headers / sizeof headers[0]; h++)
        check(seen[h] == 1, "a header missing or repeated");

    /* the boundary of the Content-Type header: its delimiter lines are the only ones */
    static const char content_type[] = "\r\nContent-Type: multipart/alternative; boundary=\"";
    const char *b = strstr(text, content_type);
    check(b != NULL && b < head_end, "no boundary");
    b += strlen(content_type);
    char delimiter[64];
    snprintf(delimiter, sizeof delimiter, "\r\n--%.*s", (int)strcspn(b, "\""), b);
    size_t delimiters = 0;
    for (const char *p = text; (p = strstr(p, delimiter)); p += strlen(delimiter))
        delimiters++;
    check(delimiters == 3, "the body holds a boundary delimiter of its own");

    /* the text part: the link alone on one line */
    const char *part = strstr(head_end - 2, delimiter);
    part = part ? strstr(part, "\r\n\r\n") : NULL;
    const char *part_end = part ? strstr(part + 2, delimiter) : NULL;
    check(part && part_end, "no text part");
    size_t links = 0;
    for (size_t i = 0; line_at(part + 4, part_end + 2, i, &line, &len); i++)
        links += len == strlen(link) && !strncmp(line, link, len);
    check(links == 1, "the link is not on a line of its own, once");
}

/* Renders template name with vars and formats it; with a link, checks the message. */
static void render(const char *name, const struct mail_var *vars, size_t nvars,
                   const char *recipient, const char *link)
{
    struct mail m = {0};
    struct buf msg = {0};
    snprintf(m.recipient, sizeof m.recipient, "%s", recipient);
    if (mail_render(&cfg, name, vars, nvars, &m) != GH_OK)
        return;
    /* Subjects are UTF-8 (names are checked before they are stored, templates are UTF-8 by
     * contract): mail_format relies on it to cut encoded words between characters. */
    if (utf8_is_valid(m.subject) && mail_format(cfg.mail_from, &m, &msg) == GH_OK && link) {
        check_message(&msg, &m, link);
        /* every value is escaped in HTML: the markup is the template's alone */
        struct mail_var blank[8];
        struct mail plain = {0};
        for (size_t i = 0; i < nvars; i++)
            blank[i] = (struct mail_var){vars[i].name, ""};
        check(mail_render(&cfg, name, blank, nvars, &plain) == GH_OK, "cannot render blank");
        check(count_bytes(m.html_body, "<>\"'") == count_bytes(plain.html_body, "<>\"'"),
              "a value is not escaped in the HTML body");
        mail_clear(&plain);
    }
    buf_free(&msg);
    mail_clear(&m);
}

/* A subject as a template author writes one: UTF-8 on one line, checked in full. Any other
 * subject must still be formatted in bounded time without a crash. */
static void format_subject(const char *subject)
{
    if (strpbrk(subject, "\r\n") || strlen(subject) > 900)
        return;
    static const char link[] = "https://auth.example.com/x";
    struct mail m = {.recipient = "ada@example.com"};
    struct buf msg = {0};
    m.subject = (char *)subject;
    m.text_body = (char *)"Hello,\n\nhttps://auth.example.com/x\n";
    m.html_body = (char *)"<p>Hello</p>";
    if (mail_format(cfg.mail_from, &m, &msg) == GH_OK && utf8_is_valid(subject))
        check_message(&msg, &m, link);
    buf_free(&msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *p = copy, *end = copy + size;
    const char *first = next_field(&p, end);
    const char *last = next_field(&p, end);
    const char *email = next_field(&p, end);
    const char *subject = next_field(&p, end);

    /* as received: only memory safety is at stake */
    const struct mail_var raw[] = {{"link", subject},
                                   {"expires", last},
                                   {"first_name", first},
                                   {"last_name", last},
                                   {"email", email}};
    for (size_t i = 0; i < sizeof template_names / sizeof template_names[0]; i++)
        render(template_names[i], raw, sizeof raw / sizeof raw[0], email, NULL);

    /* as gatehouse renders them: normalised names and email, a real link */
    char first_norm[NAME_MAX_BYTES + 1], last_norm[NAME_MAX_BYTES + 1], email_norm[EMAIL_MAX + 1];
    if (name_normalize(first, first_norm) != GH_OK)
        strcpy(first_norm, "Ada");
    if (name_normalize(last, last_norm) != GH_OK)
        strcpy(last_norm, "Lovelace");
    if (email_normalize(email, email_norm) != GH_OK)
        strcpy(email_norm, "ada@example.com");
    char token[TOKEN_LEN + 1], link[CONFIG_URL_MAX + 128];
    secret_token_new(token);
    snprintf(link, sizeof link, "%s/users/register/confirm/?token=%s", cfg.public_url, token);
    const struct mail_var vars[] = {{"link", link},
                                    {"expires", "30 minutes"},
                                    {"first_name", first_norm},
                                    {"last_name", last_norm},
                                    {"email", email_norm}};
    for (size_t i = 0; i < sizeof template_names / sizeof template_names[0]; i++)
        render(template_names[i], vars, sizeof vars / sizeof vars[0], email_norm, link);

    format_subject(subject);
    free(copy);
    return 0;
}
