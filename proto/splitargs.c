/* splitargs.c - see splitargs.h. */
#include "proto/splitargs.h"

#include <ctype.h>
#include <stdio.h>

static bool is_blank(int c)
{
    /* isspace() in the C locale, without its undefined behaviour for bytes >= 0x80 */
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* An escape inside quotes at text[i]: writes the byte it stands for to *out
 * and returns how many bytes it takes, or 0 when text[i] starts none. */
static size_t quoted_escape(char quote, const uint8_t *text, size_t n, size_t i, char *out)
{
#define AT(k) ((k) < n ? (int)text[(k)] : 0)
    if (AT(i) != '\\' || !AT(i + 1)) return 0;
    if (quote == '\'') {
        if (AT(i + 1) != '\'') return 0;
        *out = '\'';
        return 2;
    }
    if (AT(i + 1) == 'x' && hex_value(AT(i + 2)) >= 0 && hex_value(AT(i + 3)) >= 0) {
        *out = (char)(hex_value(AT(i + 2)) * 16 + hex_value(AT(i + 3)));
        return 4;
    }
    switch (AT(i + 1)) {
    case 'n': *out = '\n'; break;
    case 'r': *out = '\r'; break;
    case 't': *out = '\t'; break;
    case 'b': *out = '\b'; break;
    case 'a': *out = '\a'; break;
    default: *out = (char)AT(i + 1); break;
    }
    return 2;
#undef AT
}

bool splitargs(const uint8_t *text, size_t n, char *out, splitargs_word_fn fn, void *arg)
{
    /* Past n, or at a NUL, reads as the end of a C string. */
#define AT(k) ((k) < n ? (int)text[(k)] : 0)
    size_t o = 0, i = 0;
    for (;;) {
        while (AT(i) && is_blank(AT(i))) i++;
        if (!AT(i)) return true;
        size_t word = o;
        char quote = 0;   /* the quote open at i, or 0 */
        for (;;) {
            int c = AT(i);
            if (!quote) {
                /* only these end an unquoted word: "\v" and "\f" do not */
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0) break;
                if (c == '"' || c == '\'') quote = (char)c;
                else out[o++] = (char)c;
                i++;
                continue;
            }
            size_t used = quoted_escape(quote, text, n, i, &out[o]);
            if (used) {
                o++;
                i += used;
            } else if (c == quote) {
                if (AT(i + 1) && !is_blank(AT(i + 1))) return false;
                i++;
                break;
            } else if (!c) {
                return false;
            } else {
                out[o++] = (char)c;
                i++;
            }
        }
        fn(arg, out + word, o - word);
    }
#undef AT
}

bool splitargs_needs_repr(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == '"' || !isprint(c) || isspace(c)) return true;
    }
    return false;
}

size_t splitargs_repr(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    /* PUT counts every byte and stores those that fit before the NUL */
#define PUT(ch) do { if (o + 1 < cap) out[o] = (char)(ch); o++; } while (0)
    PUT('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '\\': esc = "\\\\"; break;
        case '"': esc = "\\\""; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\a': esc = "\\a"; break;
        case '\b': esc = "\\b"; break;
        default: break;
        }
        if (esc) {
            PUT(esc[0]);
            PUT(esc[1]);
        } else if (isprint(c)) {
            PUT(c);
        } else {
            char hex[5];
            snprintf(hex, sizeof hex, "\\x%02x", c);
            for (int k = 0; k < 4; k++) PUT(hex[k]);
        }
    }
    PUT('"');
#undef PUT
    if (cap) out[o < cap ? o : cap - 1] = '\0';
    return o;
}
