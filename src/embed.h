/* Files compiled into the binary (see embed.S): migrations, mail templates, the common-password
 * list, the OpenAPI document. Each is NUL-terminated, so it can also be used as a C string. */
#ifndef GH_EMBED_H
#define GH_EMBED_H

#include <stddef.h>

#define EMBED_DECLARE(name)                                                                        \
    extern const char embed_##name##_start[];                                                      \
    extern const char embed_##name##_end[]

EMBED_DECLARE(sqlite_0001);
EMBED_DECLARE(sqlite_0002);
EMBED_DECLARE(sqlite_0003);
EMBED_DECLARE(sqlite_0004);
EMBED_DECLARE(sqlite_0005);
EMBED_DECLARE(sqlite_0006);
EMBED_DECLARE(sqlite_0007);
EMBED_DECLARE(sqlite_0008);
EMBED_DECLARE(sqlite_0009);
EMBED_DECLARE(postgres_0001);
EMBED_DECLARE(postgres_0002);
EMBED_DECLARE(postgres_0003);
EMBED_DECLARE(postgres_0004);
EMBED_DECLARE(postgres_0005);
EMBED_DECLARE(postgres_0006);
EMBED_DECLARE(postgres_0007);
EMBED_DECLARE(postgres_0008);
EMBED_DECLARE(postgres_0009);
EMBED_DECLARE(common_passwords);
EMBED_DECLARE(mail_confirm_txt);
EMBED_DECLARE(mail_confirm_html);
EMBED_DECLARE(mail_reset_txt);
EMBED_DECLARE(mail_reset_html);
EMBED_DECLARE(mail_password_changed_txt);
EMBED_DECLARE(mail_password_changed_html);
EMBED_DECLARE(mail_account_exists_txt);
EMBED_DECLARE(mail_account_exists_html);
EMBED_DECLARE(openapi_yaml);

#define EMBED_LEN(name) ((size_t)(embed_##name##_end - embed_##name##_start))

#endif
