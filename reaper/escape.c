#include "escape.h"

size_t utf8_sequence(const unsigned char *p, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) /* a NUL ends the string here too */
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* How many bytes from p on print as they are: printable ASCII but '\\',
 * and valid UTF-8 outside the C1 controls. */
static size_t plain_run(const unsigned char *p)
{
    size_t n = 0;
    for (;;) {
        if (p[n] >= 0x20 && p[n] < 0x7f && p[n] != '\\') {
            n++;
            continue;
        }
        uint32_t cp;
        size_t len = p[n] >= 0x80 ? utf8_sequence(p + n, &cp) : 0;
        if (!len || (cp >= 0x80 && cp < 0xa0))
            return n;
        n += len;
    }
}

void text_escaped(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        /* a whole run at once: a report prints thousands of these */
        size_t plain = plain_run(p);
        if (plain) {
            fwrite(p, 1, plain, out);
            p += plain;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_sequence(p, &cp);
        switch (*p) {
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            /* a C1 control is escaped byte by byte, as is anything not UTF-8 */
            for (size_t i = 0; i < (len ? len : 1); i++)
                fprintf(out, "\\x%02x", p[i]);
            p += len ? len : 1;
            continue;
        }
        p++;
    }
}
