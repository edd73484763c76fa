/* Embeds data files into the binary's read-only data; paths are relative to the project root,
 * where make runs the assembler. Each blob is followed by a NUL byte. */
#define EMBED(name, file)                \
    .section .rodata;                    \
    .global embed_##name##_start;        \
    .global embed_##name##_end;          \
    .balign 16;                          \
embed_##name##_start:                    \
    .incbin file;                        \
embed_##name##_end:                      \
    .byte 0;                             \
    .previous

EMBED(sqlite_0001, "src/store/migrations/sqlite/0001_init.sql")
EMBED(sqlite_0002, "src/store/migrations/sqlite/0002_rate_limits.sql")
EMBED(sqlite_0003, "src/store/migrations/sqlite/0003_readiness.sql")
EMBED(sqlite_0004, "src/store/migrations/sqlite/0004_server_secrets.sql")
EMBED(sqlite_0005, "src/store/migrations/sqlite/0005_mail_requests.sql")
EMBED(sqlite_0006, "src/store/migrations/sqlite/0006_tokens.sql")
EMBED(sqlite_0007, "src/store/migrations/sqlite/0007_oidc.sql")
EMBED(sqlite_0008, "src/store/migrations/sqlite/0008_import.sql")
EMBED(sqlite_0009, "src/store/migrations/sqlite/0009_unlogged_rate_limits.sql")
EMBED(postgres_0001, "src/store/migrations/postgres/0001_init.sql")
EMBED(postgres_0002, "src/store/migrations/postgres/0002_rate_limits.sql")
EMBED(postgres_0003, "src/store/migrations/postgres/0003_readiness.sql")
EMBED(postgres_0004, "src/store/migrations/postgres/0004_server_secrets.sql")
EMBED(postgres_0005, "src/store/migrations/postgres/0005_mail_requests.sql")
EMBED(postgres_0006, "src/store/migrations/postgres/0006_tokens.sql")
EMBED(postgres_0007, "src/store/migrations/postgres/0007_oidc.sql")
EMBED(postgres_0008, "src/store/migrations/postgres/0008_import.sql")
EMBED(postgres_0009, "src/store/migrations/postgres/0009_unlogged_rate_limits.sql")
EMBED(common_passwords, "assets/common-passwords.txt")
EMBED(mail_confirm_txt, "src/mail/templates/confirm.txt")
EMBED(mail_confirm_html, "src/mail/templates/confirm.html")
EMBED(mail_reset_txt, "src/mail/templates/reset.txt")
EMBED(mail_reset_html, "src/mail/templates/reset.html")
EMBED(mail_password_changed_txt, "src/mail/templates/password_changed.txt")
EMBED(mail_password_changed_html, "src/mail/templates/password_changed.html")
EMBED(mail_account_exists_txt, "src/mail/templates/account_exists.txt")
EMBED(mail_account_exists_html, "src/mail/templates/account_exists.html")
EMBED(openapi_yaml, "docs/openapi.yaml")

.section .note.GNU-stack,"",@progbits
