/* Email address syntax (a practical subset of RFC 5321) and name trimming. */
#include "email.h"

#include "../util/utf8.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "password.h"

static bool is_atext(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

static bool local_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!is_atext((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool domain_ok(const char *s, size_t n)
{
    size_t labels = 0, label_len = 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label_len == 0 || label_len > 63 || s[i - 1] == '-')
                return false;
            labels++;
            label_len = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-')
            return false;
        if (label_len == 0 && c == '-')
            return false;
        label_len++;
    }
    return labels >= 2;
}

/* Copies in without leading and trailing whitespace; GH_ERR_TOO_LONG when it does not fit. */
static gh_status trim_copy(const char *in, char *out, size_t cap)
{
    while (*in && isspace((unsigned char)*in))
        in++;
    size_t n = strlen(in);
    while (n && isspace((unsigned char)in[n - 1]))
        n--;
    if (n >= cap)
        return GH_ERR_TOO_LONG;
    memcpy(out, in, n);
    out[n] = '\0';
    return GH_OK;
}

gh_status email_normalize(const char *in, char out[EMAIL_MAX + 1])
{
    if (trim_copy(in, out, EMAIL_MAX + 1) != GH_OK)
        return GH_ERR_INVALID_EMAIL;
    const char *at = strchr(out, '@');
    if (!at || strchr(at + 1, '@'))
        return GH_ERR_INVALID_EMAIL;
    size_t local = (size_t)(at - out);
    if (!local_part_ok(out, local) || !domain_ok(at + 1, strlen(at + 1)))
        return GH_ERR_INVALID_EMAIL;
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return GH_OK;
}

gh_status name_normalize(const char *in, char out[NAME_MAX_BYTES + 1])
{
    if (!utf8_is_valid(in))
        return GH_ERR_INVALID_CHARACTERS;
    if (trim_copy(in, out, NAME_MAX_BYTES + 1) != GH_OK)
        return GH_ERR_TOO_LONG;
    size_t chars = utf8_length(out);
    if (chars == 0)
        return GH_ERR_EMPTY;
    if (chars > NAME_MAX_CHARS)
        return GH_ERR_TOO_LONG;
    for (const char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return GH_ERR_INVALID_CHARACTERS;
    return GH_OK;
}
