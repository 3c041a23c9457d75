/* script_struct.c - the `struct` table scripts see: pack, unpack and size of binary records.
 *
 * Debian has no package of Roberto Ierusalimschy's struct library that
 * Redis bundles, so this is our own, giving what 7.0.15 gives. A format is
 * a string of options: `>` `<` set big/little endian, `![n]` the maximum
 * alignment (a power of 2; default: the platform's), `x` a pad byte, `b B h
 * H l L T` signed/unsigned char, short, long and size_t, `i[n] I[n]`
 * integers of n bytes (default int's, at most 32), `f` `d` float and
 * double, `c[n]` n chars (pack: 0 is the whole string; unpack: 0 takes the
 * length from the value just read), `s` a zero-terminated string, and a
 * blank is ignored. Values are aligned to min(their size, the alignment).
 * Integers are carried in 64 bits, so wider i/I fields get zero bytes
 * beyond the eighth, as 7.0.15's do. The error texts and the argument
 * numbers in them are 7.0.15's (pack's "string too short" names the
 * argument after the short string, as Redis's does).
 *
 * Must never: read or write past the data or the buffer.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "actors/commands/script_lua.h"

#define STRUCT_MAX_INT 32   /* widest i/I field, in bytes */

typedef struct {
    bool little;
    size_t align;
} fmt_state_t;

/* Largest alignment any type needs here: a double's, or int's when bigger. */
static size_t max_align(void)
{
    struct probe { char c; double d; };
    size_t pad = offsetof(struct probe, d);
    return pad > sizeof(int) ? pad : sizeof(int);
}

static bool host_little(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Digits at *fmt as a size (advancing), or dflt when there are none. */
static int read_count(lua_State *L, const char **fmt, int dflt)
{
    if (!isdigit((unsigned char)**fmt)) return dflt;
    int a = 0;
    while (isdigit((unsigned char)**fmt)) {
        int d = **fmt - '0';
        if (a > INT_MAX / 10 || a * 10 > INT_MAX - d) luaL_error(L, "integral size overflow");
        a = a * 10 + d;
        (*fmt)++;
    }
    return a;
}

/* Bytes option opt takes (reading its count from *fmt); 0 for the options
 * that are not values (endianness, alignment, blanks, unknown letters). */
static size_t field_size(lua_State *L, int opt, const char **fmt)
{
    switch (opt) {
    case 'b': case 'B': return sizeof(char);
    case 'h': case 'H': return sizeof(short);
    case 'l': case 'L': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return (size_t)read_count(L, fmt, 1);
    case 'i': case 'I': {
        int n = read_count(L, fmt, (int)sizeof(int));
        if (n > STRUCT_MAX_INT) luaL_error(L, "integral size %d is larger than limit of %d", n, STRUCT_MAX_INT);
        return (size_t)n;
    }
    default: return 0;
    }
}

/* Padding before a field of `size` bytes at offset pos (7.0.15's formula,
 * which for sizes that are not powers of 2 pads oddly: kept as is). */
static size_t padding(size_t pos, const fmt_state_t *st, int opt, size_t size)
{
    if (size == 0 || opt == 'c') return 0;
    if (size > st->align) size = st->align;
    return (size - (pos & (size - 1))) & (size - 1);
}

/* The non-value options; anything else is refused as an invalid option. */
static void set_option(lua_State *L, int opt, const char **fmt, fmt_state_t *st)
{
    switch (opt) {
    case ' ': return;
    case '>': st->little = false; return;
    case '<': st->little = true; return;
    case '!': {
        int a = read_count(L, fmt, (int)max_align());
        if (a <= 0 || (a & (a - 1))) luaL_error(L, "alignment %d is not a power of 2", a);
        st->align = (size_t)a;
        return;
    }
    default:
        luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
    }
}

/* Reads the next option of *fmt into *opt and returns its size, moving
 * *pos past the padding it needs (unpack's and size's walk). */
static size_t next_field(lua_State *L, const char **fmt, const fmt_state_t *st, size_t *pos, int *opt)
{
    *opt = *(*fmt)++;
    size_t size = field_size(L, *opt, fmt);
    *pos += padding(*pos, st, *opt, size);
    return size;
}

static void state_init(fmt_state_t *st)
{
    st->little = host_little();
    st->align = 1;
}

/* size bytes of a float or double in the wanted order. */
static void put_ordered(luaL_Buffer *b, const void *v, size_t size, bool little)
{
    const unsigned char *p = v;
    for (size_t i = 0; i < size; i++) luaL_addchar(b, (char)p[little == host_little() ? i : size - 1 - i]);
}

static void get_ordered(void *v, const char *src, size_t size, bool little)
{
    unsigned char *p = v;
    for (size_t i = 0; i < size; i++) p[little == host_little() ? i : size - 1 - i] = (unsigned char)src[i];
}

/* A float (is_float) or a double read at src. */
static lua_Number get_real(const char *src, bool is_float, bool little)
{
    if (is_float) {
        float f;
        get_ordered(&f, src, sizeof f, little);
        return f;
    }
    double d;
    get_ordered(&d, src, sizeof d, little);
    return d;
}

static void put_int(lua_State *L, luaL_Buffer *b, int arg, bool little, size_t size)
{
    lua_Number n = luaL_checknumber(L, arg);
    /* negative numbers through long, as 7.0.15 (two's complement bytes) */
    uint64_t v = n < 0 ? (uint64_t)(int64_t)n : (uint64_t)n;
    char bytes[STRUCT_MAX_INT];
    for (size_t i = 0; i < size; i++) {
        bytes[little ? i : size - 1 - i] = (char)(v & 0xff);
        v >>= 8;
    }
    luaL_addlstring(b, bytes, size);
}

static int st_pack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    fmt_state_t st;
    state_init(&st);
    int arg = 2;
    size_t total = 0;
    lua_pushnil(L);   /* keeps the arguments below the buffer's stack slots */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = *fmt++;
        size_t size = field_size(L, opt, &fmt);
        size_t pad = padding(total, &st, opt, size);
        total += pad;
        while (pad-- > 0) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            put_int(L, &b, arg++, st.little, size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            put_ordered(&b, &f, size, st.little);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            put_ordered(&b, &d, size, st.little);
            break;
        }
        case 'c': case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0) size = l;
            luaL_argcheck(L, l >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            set_option(L, opt, &fmt, &st);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number get_int(const char *src, bool little, bool is_signed, size_t size)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v = (v << 8) | (unsigned char)src[little ? size - 1 - i : i];
    if (!is_signed) return (lua_Number)v;
    /* 7.0.15 shifts by size*8-1, which x86 takes modulo 64 */
    uint64_t mask = ~(uint64_t)0 << ((size * 8 - 1) & 63);
    if (v & mask) v |= mask;
    return (lua_Number)(int64_t)v;
}

static int st_unpack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    fmt_state_t st;
    state_init(&st);
    int n = 0;
    while (*fmt) {
        int opt;
        size_t size = next_field(L, &fmt, &st, &pos, &opt);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            lua_pushnumber(L, get_int(data + pos, st.little, islower(opt), size));
            n++;
            break;
        case 'x':
            break;
        case 'f': case 'd':
            lua_pushnumber(L, get_real(data + pos, opt == 'f', st.little));
            n++;
            break;
        case 'c':
            if (size == 0) {
                if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)lua_tonumber(L, -1);
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            n++;
            break;
        case 's': {
            const char *e = memchr(data + pos, '\0', ld - pos);
            if (!e) luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            n++;
            break;
        }
        default:
            set_option(L, opt, &fmt, &st);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos + 1);
    return n + 1;
}

static int st_size(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    fmt_state_t st;
    state_init(&st);
    size_t pos = 0;
    while (*fmt) {
        int opt;
        size_t size = next_field(L, &fmt, &st, &pos, &opt);
        if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        /* unknown letters count 0 bytes here without an error, as in 7.0.15 */
        if (!isalnum(opt)) set_option(L, opt, &fmt, &st);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int script_open_struct(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "pack", st_pack }, { "unpack", st_unpack }, { "size", st_size }, { NULL, NULL },
    };
    luaL_register(L, "struct", fns);
    return 1;
}
