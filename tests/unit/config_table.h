/* Settings for unit tests: a NULL-terminated table of name/value pairs that config_load reads
 * through setting_lookup, and a loader that fails the test when the table is refused. Include
 * after <cmocka.h>. */
#ifndef GH_TEST_CONFIG_TABLE_H
#define GH_TEST_CONFIG_TABLE_H

#include <string.h>

#include "config.h"

struct setting {
    const char *name;
    const char *value;
};

static inline const char *setting_lookup(void *ctx, const char *name)
{
    for (const struct setting *p = ctx; p->name; p++)
        if (!strcmp(p->name, name))
            return p->value;
    return NULL;
}

static inline void config_load_ok(struct config *cfg, struct setting *table)
{
    char err[512] = "";
    gh_status st = config_load(cfg, setting_lookup, table, err, sizeof err);
    if (st != GH_OK)
        fail_msg("config_load failed: %s", err);
}

#endif
