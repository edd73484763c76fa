/* UTF-8 checks for text from the network: well-formedness and length in code points. */
#ifndef GH_UTF8_H
#define GH_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
bool utf8_is_valid(const char *s);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t utf8_length(const char *s);

#endif
