#include "json.h"

#include "escape.h"

void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        size_t len = utf8_sequence(p, &cp);
        if (!len) {
            fputs("\\ufffd", out); /* not UTF-8: JSON text must be */
            p++;
            continue;
        }
        switch (cp) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
                fprintf(out, "\\u%04x", (unsigned)cp);
            else
                fwrite(p, 1, len, out);
        }
        p += len;
    }
    fputc('"', out);
}
