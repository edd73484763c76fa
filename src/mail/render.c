/* Rendering of mail templates: "Subject: ..." on the first line of NAME.txt, the rest is the
 * plain-text body; NAME.html is the HTML body. {{var}} is replaced by its value. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../embed.h"
#include "../util/log.h"
#include "mail.h"

struct builtin_template {
    const char *name;
    const char *text;
    const char *html;
};

static const struct builtin_template builtins[] = {
    {"confirm", embed_mail_confirm_txt_start, embed_mail_confirm_html_start},
    {"reset", embed_mail_reset_txt_start, embed_mail_reset_html_start},
    {"password_changed", embed_mail_password_changed_txt_start,
     embed_mail_password_changed_html_start},
    {"account_exists", embed_mail_account_exists_txt_start, embed_mail_account_exists_html_start},
};

/* Reads dir/name.ext into a heap string; GH_NOT_FOUND when the file does not exist. */
static gh_status read_override(const char *dir, const char *name, const char *ext, char **out)
{
    char path[1024];
    struct buf b = {.limit = 1024 * 1024};
    gh_status st = GH_OK;
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? GH_NOT_FOUND : GH_INTERNAL;
    char chunk[4096];
    size_t n;
    while (st == GH_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = buf_append(&b, chunk, n);
    if (st == GH_OK && (ferror(f) || !b.data))
        st = GH_INTERNAL;
    fclose(f);
    if (st != GH_OK) {
        buf_free(&b);
        return st;
    }
    *out = b.data;
    return GH_OK;
}

/* Returns the template text (heap copy) from the override directory or the built-in set. */
static gh_status load_template(const struct config *cfg, const char *name, const char *ext,
                               char **out)
{
    if (cfg->mail_templates_dir[0]) {
        gh_status st = read_override(cfg->mail_templates_dir, name, ext, out);
        if (st != GH_NOT_FOUND)
            return st;
    }
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(builtins[i].name, name))
            continue;
        *out = strdup(strcmp(ext, "html") ? builtins[i].text : builtins[i].html);
        return *out ? GH_OK : GH_NO_MEMORY;
    }
    return GH_NOT_FOUND;
}

static gh_status append_html_escaped(struct buf *b, const char *s)
{
    gh_status st = GH_OK;
    for (; *s && st == GH_OK; s++) {
        switch (*s) {
        case '&':
            st = buf_append_str(b, "&amp;");
            break;
        case '<':
            st = buf_append_str(b, "&lt;");
            break;
        case '>':
            st = buf_append_str(b, "&gt;");
            break;
        case '"':
            st = buf_append_str(b, "&quot;");
            break;
        case '\'':
            st = buf_append_str(b, "&#39;");
            break;
        default:
            st = buf_append(b, s, 1);
        }
    }
    return st;
}

/* Substitutes {{name}} in tmpl; unknown names are left as they are. */
static gh_status substitute(const char *tmpl, const struct mail_var *vars, size_t nvars, bool html,
                            char **out)
{
    struct buf b = {0};
    gh_status st = GH_OK;
    const char *p = tmpl;
    while (st == GH_OK && *p) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (!open || !close) {
            st = buf_append_str(&b, p);
            break;
        }
        st = buf_append(&b, p, (size_t)(open - p));
        const struct mail_var *var = NULL;
        size_t nlen = (size_t)(close - open - 2);
        for (size_t i = 0; i < nvars; i++)
            if (strlen(vars[i].name) == nlen && !strncmp(vars[i].name, open + 2, nlen))
                var = &vars[i];
        if (st == GH_OK && var)
            st = html ? append_html_escaped(&b, var->value) : buf_append_str(&b, var->value);
        else if (st == GH_OK)
            st = buf_append(&b, open, (size_t)(close + 2 - open));
        p = close + 2;
    }
    if (st == GH_OK && !b.data)
        st = buf_append_str(&b, "");
    if (st != GH_OK) {
        buf_free(&b);
        return st;
    }
    *out = b.data;
    return GH_OK;
}

/* Splits "Subject: ...\n\nbody" into subject and body (both heap strings). */
static gh_status split_subject(const char *text, char **subject, char **body)
{
    if (strncmp(text, "Subject:", 8))
        return GH_INTERNAL;
    const char *s = text + 8;
    while (*s == ' ')
        s++;
    size_t slen = strcspn(s, "\r\n");
    const char *rest = s + slen;
    while (*rest == '\r' || *rest == '\n')
        rest++;
    *subject = strndup(s, slen);
    *body = strdup(rest);
    if (!*subject || !*body) {
        free(*subject);
        free(*body);
        *subject = *body = NULL;
        return GH_NO_MEMORY;
    }
    return GH_OK;
}

gh_status mail_render(const struct config *cfg, const char *name, const struct mail_var *vars,
                      size_t nvars, struct mail *m)
{
    char *text_tmpl = NULL, *html_tmpl = NULL, *text = NULL;
    gh_status st;
    if ((st = load_template(cfg, name, "txt", &text_tmpl)) != GH_OK ||
        (st = load_template(cfg, name, "html", &html_tmpl)) != GH_OK) {
        log_msg(LOG_ERROR, "mail template %s cannot be loaded", name);
        goto out;
    }
    if ((st = substitute(text_tmpl, vars, nvars, false, &text)) != GH_OK ||
        (st = split_subject(text, &m->subject, &m->text_body)) != GH_OK ||
        (st = substitute(html_tmpl, vars, nvars, true, &m->html_body)) != GH_OK)
        goto out;
out:
    if (st != GH_OK)
        mail_clear(m);
    free(text_tmpl);
    free(html_tmpl);
    if (text)
        sodium_memzero(text, strlen(text)); /* the rendered text holds the link */
    free(text);
    return st;
}
