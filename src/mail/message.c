/* RFC 5322 formatting of an outbox mail: multipart/alternative with a text and an HTML part,
 * both UTF-8 and 8bit so that links stay verbatim on their own line. */
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/secret.h"
#include "mail.h"

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Bytes of UTF-8 text per RFC 2047 encoded word: 45 bytes become 60 base64 characters, which
 * with "=?UTF-8?B?" and "?=" stays under the 75-character limit of one encoded word. */
#define ENCODED_WORD_BYTES 45

/* Writes the subject, RFC 2047-encoded when it is not plain ASCII: one encoded word per piece
 * of at most ENCODED_WORD_BYTES, cut between characters, on folded header lines. */
static gh_status append_subject(struct buf *b, const char *subject)
{
    if (is_ascii(subject))
        return buf_printf(b, "Subject: %s\r\n", subject);
    gh_status st = buf_append_str(b, "Subject:");
    const unsigned char *p = (const unsigned char *)subject;
    size_t left = strlen(subject);
    while (st == GH_OK && left > 0) {
        size_t n = left < ENCODED_WORD_BYTES ? left : ENCODED_WORD_BYTES;
        while (n < left && n > 0 && (p[n] & 0xc0) == 0x80)
            n--; /* never split a multi-byte character */
        char enc[sodium_base64_ENCODED_LEN(ENCODED_WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(enc, sizeof enc, p, n, sodium_base64_VARIANT_ORIGINAL);
        st = buf_printf(b, "%s=?UTF-8?B?%s?=", p == (const unsigned char *)subject ? " " : "\r\n ",
                        enc);
        p += n;
        left -= n;
    }
    return st == GH_OK ? buf_append_str(b, "\r\n") : st;
}

/* Appends text with every line ending turned into CRLF. */
static gh_status append_crlf(struct buf *b, const char *text)
{
    gh_status st = GH_OK;
    while (st == GH_OK && *text) {
        size_t n = strcspn(text, "\r\n");
        st = buf_append(b, text, n);
        text += n;
        if (st == GH_OK && *text) {
            st = buf_append(b, "\r\n", 2);
            text += (text[0] == '\r' && text[1] == '\n') ? 2 : 1;
        }
    }
    return st;
}

gh_status mail_format(const char *from, const struct mail *m, struct buf *out)
{
    char date[64], boundary[UUID_LEN + 8], msgid[UUID_LEN + 1];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    secret_uuid_new(msgid);
    secret_uuid_new(boundary + 3);
    memcpy(boundary, "gh-", 3);
    const char *domain = strrchr(from, '@');
    char host[128] = "localhost";
    if (domain) {
        size_t n = strcspn(domain + 1, ">");
        if (n > 0 && n < sizeof host) {
            memcpy(host, domain + 1, n);
            host[n] = '\0';
        }
    }
    gh_status st;
    if ((st = buf_printf(out,
                         "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s@%s>\r\n"
                         "MIME-Version: 1.0\r\n",
                         date, from, m->recipient, msgid, host)) != GH_OK ||
        (st = append_subject(out, m->subject)) != GH_OK ||
        (st = buf_printf(out,
                         "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
                         "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: 8bit\r\n\r\n",
                         boundary, boundary)) != GH_OK ||
        (st = append_crlf(out, m->text_body)) != GH_OK ||
        (st = buf_printf(out,
                         "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: 8bit\r\n\r\n",
                         boundary)) != GH_OK ||
        (st = append_crlf(out, m->html_body)) != GH_OK ||
        (st = buf_printf(out, "\r\n--%s--\r\n", boundary)) != GH_OK)
        return st;
    return GH_OK;
}
