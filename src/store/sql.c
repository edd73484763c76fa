/* The store, parameter lists, the check of text from outside and record readers shared by the
 * SQLite and PostgreSQL stores; sql_store_open fills a store's members from store/members/. */
#include "sql.h"

#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../util/utf8.h"
#include "members/members.h"

/* The ping member of both backends: runs the first statement of the connection group. */
static gh_status sql_ping(struct store *st)
{
    struct sql_row row;
    gh_status status = sql_query(st, SQL_CONN, CONN_PING, NULL, &row);
    if (status == GH_OK)
        sql_done(&row);
    return status;
}

/* GH_OK when d has the statements of every group, each filed under its own group. */
static gh_status dialect_check(const struct sql_dialect *d)
{
    for (int g = 0; g < SQL_GROUPS; g++) {
        if (!d->groups[g] || d->groups[g]->group != (enum sql_group)g) {
            log_msg(LOG_ERROR, "store: the dialect has no statements of group %d", g);
            return GH_INTERNAL;
        }
    }
    return GH_OK;
}

gh_status sql_store_open(const char *location, const struct sql_dialect *d,
                         thread_conn_open_fn open_conn, thread_conn_close_fn close_conn,
                         struct store **out)
{
    struct sql_store *s = NULL;
    gh_status st = dialect_check(d);
    if (st != GH_OK)
        return st;
    st = GH_NO_MEMORY;
    s = calloc(1, sizeof *s);
    if (!s || !(s->location = strdup(location)))
        goto fail;
    if ((st = thread_conns_init(&s->conns, s, open_conn, close_conn)) != GH_OK)
        goto fail;
    s->dialect = d;
    s->base.impl = s;
    s->base.close = sql_store_close;
    s->base.migrate = d->migrate;
    s->base.ping = sql_ping;
    s->base.begin = d->begin;
    s->base.commit = d->commit;
    s->base.rollback = d->rollback;
    sql_users_members(&s->base);
    sql_sessions_members(&s->base);
    sql_onetime_members(&s->base);
    sql_outbox_members(&s->base);
    sql_audit_members(&s->base);
    sql_rate_members(&s->base);
    sql_keys_members(&s->base);
    sql_tokens_members(&s->base);
    sql_clients_members(&s->base);
    sql_identities_members(&s->base);
    sql_states_members(&s->base);
    sql_server_members(&s->base);
    sql_import_members(&s->base);
    if ((st = d->connect(&s->base)) != GH_OK) {
        sql_store_close(&s->base);
        return st;
    }
    *out = &s->base;
    return GH_OK;
fail:
    if (s)
        free(s->location);
    free(s);
    return st;
}

void sql_store_close(struct store *st)
{
    struct sql_store *s = sql_store_of(st);
    if (!s)
        return;
    thread_conns_close(&s->conns);
    free(s->location);
    free(s);
}

/* Takes the next slot of p, or marks p overflowed and returns NULL. */
static struct sql_param *param_add(struct sql_params *p, enum sql_param_type type)
{
    if (p->n >= SQL_PARAMS_MAX) {
        p->overflow = true;
        return NULL;
    }
    struct sql_param *v = &p->v[p->n++];
    *v = (struct sql_param){.type = type};
    return v;
}

void sql_param_text(struct sql_params *p, const char *text)
{
    struct sql_param *v = param_add(p, SQL_PARAM_TEXT);
    if (v)
        v->text = text;
}

void sql_param_int(struct sql_params *p, int64_t num)
{
    struct sql_param *v = param_add(p, SQL_PARAM_INT);
    if (v)
        v->num = num;
}

void sql_param_bool(struct sql_params *p, bool b)
{
    struct sql_param *v = param_add(p, SQL_PARAM_BOOL);
    if (v)
        v->num = b;
}

gh_status sql_statement_check(const struct sql_statements *g, int id, const struct sql_params *p)
{
    if (id < 0 || id >= g->count || !g->text[id]) {
        log_msg(LOG_ERROR, "store: %s has no statement %d", g->name, id);
        return GH_INTERNAL;
    }
    if (p && p->overflow) {
        log_msg(LOG_ERROR, "store: %s statement %d binds more than %d parameters", g->name, id,
                SQL_PARAMS_MAX);
        return GH_INTERNAL;
    }
    return GH_OK;
}

gh_status sql_params_match(const struct sql_statements *g, int id, const struct sql_params *p,
                           int expected)
{
    int n = p ? p->n : 0;
    if (n == expected)
        return GH_OK;
    log_msg(LOG_ERROR, "store: %s statement %d binds %d parameters of %d", g->name, id, n,
            expected);
    return GH_INTERNAL;
}

bool sql_text_fits(const char *s, size_t cap)
{
    return s && strnlen(s, cap) < cap && utf8_is_valid(s);
}

void sql_copy(const struct sql_row *r, int col, char *dst, size_t cap)
{
    const char *v = sql_text(r, col);
    size_t n = strlen(v);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

void sql_read_user(const struct sql_row *r, int first, struct user *u)
{
    memset(u, 0, sizeof *u);
    sql_copy(r, first + 0, u->id, sizeof u->id);
    sql_copy(r, first + 1, u->email, sizeof u->email);
    sql_copy(r, first + 2, u->password_hash, sizeof u->password_hash);
    sql_copy(r, first + 3, u->first_name, sizeof u->first_name);
    sql_copy(r, first + 4, u->last_name, sizeof u->last_name);
    u->is_active = sql_bool(r, first + 5);
    u->is_staff = sql_bool(r, first + 6);
    u->is_superuser = sql_bool(r, first + 7);
    sql_copy(r, first + 8, u->thumbnail, sizeof u->thumbnail);
    u->date_joined = sql_int(r, first + 9);
    sql_copy(r, first + 10, u->profile.id, sizeof u->profile.id);
    sql_copy(r, first + 11, u->profile.phone_number, sizeof u->profile.phone_number);
    sql_copy(r, first + 12, u->profile.birth_date, sizeof u->profile.birth_date);
    sql_copy(r, first + 13, u->profile.github_link, sizeof u->profile.github_link);
}

void sql_read_session(const struct sql_row *r, int first, struct session *s)
{
    memset(s, 0, sizeof *s);
    sql_copy(r, first + 0, s->token_hash, sizeof s->token_hash);
    sql_copy(r, first + 1, s->id, sizeof s->id);
    sql_copy(r, first + 2, s->user_id, sizeof s->user_id);
    s->created_at = sql_int(r, first + 3);
    s->expires_at = sql_int(r, first + 4);
    s->last_seen_at = sql_int(r, first + 5);
    sql_copy(r, first + 6, s->ip, sizeof s->ip);
    sql_copy(r, first + 7, s->user_agent, sizeof s->user_agent);
}

gh_status sql_read_mail(const struct sql_row *r, int first, struct mail *m)
{
    memset(m, 0, sizeof *m);
    m->id = sql_int(r, first + 0);
    sql_copy(r, first + 1, m->recipient, sizeof m->recipient);
    m->subject = strdup(sql_text(r, first + 2));
    m->text_body = strdup(sql_text(r, first + 3));
    m->html_body = strdup(sql_text(r, first + 4));
    m->attempts = (int)sql_int(r, first + 5);
    m->created_at = sql_int(r, first + 6);
    sql_copy(r, first + 7, m->request, sizeof m->request);
    if (!m->subject || !m->text_body || !m->html_body) {
        mail_clear(m);
        return GH_NO_MEMORY;
    }
    return GH_OK;
}

void sql_read_signing_key(const struct sql_row *r, int first, struct signing_key_row *k)
{
    memset(k, 0, sizeof *k);
    sql_copy(r, first + 0, k->kid, sizeof k->kid);
    sql_copy(r, first + 1, k->alg, sizeof k->alg);
    sql_copy(r, first + 2, k->private_key, sizeof k->private_key);
    k->created_at = sql_int(r, first + 3);
    k->activates_at = sql_int(r, first + 4);
    k->retires_at = sql_int(r, first + 5);
}

void sql_read_refresh_token(const struct sql_row *r, int first, struct refresh_token *t)
{
    memset(t, 0, sizeof *t);
    sql_copy(r, first + 0, t->token_hash, sizeof t->token_hash);
    sql_copy(r, first + 1, t->family_id, sizeof t->family_id);
    sql_copy(r, first + 2, t->user_id, sizeof t->user_id);
    sql_copy(r, first + 3, t->client_id, sizeof t->client_id);
    sql_copy(r, first + 4, t->session_hash, sizeof t->session_hash);
    t->created_at = sql_int(r, first + 5);
    t->expires_at = sql_int(r, first + 6);
    t->rotated_at = sql_int(r, first + 7);
    t->revoked_at = sql_int(r, first + 8);
}

void sql_read_client(const struct sql_row *r, int first, struct oauth_client *c)
{
    memset(c, 0, sizeof *c);
    sql_copy(r, first + 0, c->id, sizeof c->id);
    sql_copy(r, first + 1, c->name, sizeof c->name);
    sql_copy(r, first + 2, c->secret_hash, sizeof c->secret_hash);
    c->confidential = sql_bool(r, first + 3);
    c->grants = (unsigned)sql_int(r, first + 4);
    c->created_at = sql_int(r, first + 5);
}

void sql_read_identity(const struct sql_row *r, int first, struct oauth_identity *i)
{
    memset(i, 0, sizeof *i);
    sql_copy(r, first + 0, i->provider, sizeof i->provider);
    sql_copy(r, first + 1, i->subject, sizeof i->subject);
    sql_copy(r, first + 2, i->user_id, sizeof i->user_id);
    sql_copy(r, first + 3, i->email, sizeof i->email);
    i->created_at = sql_int(r, first + 4);
}

void sql_read_state(const struct sql_row *r, int first, struct oauth_state *s)
{
    memset(s, 0, sizeof *s);
    sql_copy(r, first + 0, s->state_hash, sizeof s->state_hash);
    sql_copy(r, first + 1, s->binding_hash, sizeof s->binding_hash);
    sql_copy(r, first + 2, s->provider, sizeof s->provider);
    sql_copy(r, first + 3, s->code_verifier, sizeof s->code_verifier);
    sql_copy(r, first + 4, s->nonce, sizeof s->nonce);
    sql_copy(r, first + 5, s->next, sizeof s->next);
    s->created_at = sql_int(r, first + 6);
    s->expires_at = sql_int(r, first + 7);
}
