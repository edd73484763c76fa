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
EMBED(common_passwords, "data/common-passwords.txt")
EMBED(mail_confirm_txt, "src/mail/templates/confirm.txt")
EMBED(mail_confirm_html, "src/mail/templates/confirm.html")

.section .note.GNU-stack,"",@progbits
