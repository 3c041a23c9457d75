/* splitargs.c - see splitargs.h. */
#include "proto/splitargs.h"

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
