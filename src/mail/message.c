/* RFC 5322 formatting of an outbox mail: multipart/alternative with a text and an HTML part,
 * both UTF-8 and 8bit so that links stay verbatim on their own line. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
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
        size_t max = left < ENCODED_WORD_BYTES ? left : ENCODED_WORD_BYTES;
        size_t n = max;
        while (n < left && n > 0 && (p[n] & 0xc0) == 0x80)
            n--; /* never split a multi-byte character */
        if (n == 0)
            n = max; /* only continuation bytes: not UTF-8, so nothing to keep together */
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

/* Writes the domain of the From address ("noreply@auth.example.com" or "Name <a@b>") into
 * host, or "localhost" when there is none that fits. */
static void from_domain(const char *from, char *host, size_t cap)
{
    const char *at = strrchr(from, '@');
    snprintf(host, cap, "localhost");
    if (!at)
        return;
    size_t n = strcspn(at + 1, ">");
    if (n > 0 && n < cap) {
        memcpy(host, at + 1, n);
        host[n] = '\0';
    }
}

/* The Message-ID and the Date come from the outbox row, not from the moment of sending: a mail
 * sent again after a crash (written, but not yet marked sent) is the same message, so a
 * receiver that has it already can drop the copy. The row id makes it unique within one
 * database, the creation time across databases that reuse ids. The boundary stays random so
 * that no body can contain it by chance. */
gh_status mail_format(const char *from, const struct mail *m, struct buf *out)
{
    char date[64], boundary[UUID_LEN + 8], host[128];
    time_t queued = m->created_at > 0 ? (time_t)m->created_at : time(NULL);
    struct tm tm;
    gmtime_r(&queued, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    secret_uuid_new(boundary + 3);
    memcpy(boundary, "gh-", 3);
    from_domain(from, host, sizeof host);
    gh_status st;
    if ((st = buf_printf(out,
                         "Date: %s\r\nFrom: %s\r\nTo: %s\r\n"
                         "Message-ID: <gatehouse.%lld.%lld@%s>\r\nMIME-Version: 1.0\r\n",
                         date, from, m->recipient, (long long)m->id, (long long)m->created_at,
                         host)) != GH_OK ||
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
