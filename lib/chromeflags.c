#include "chromeflags.h"

#include <string.h>

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/* "--name" or "--name=value", printable ASCII only (it ends up in reports). */
static int takes(const char *w, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (w[i] < 0x21 || w[i] > 0x7e)
            return 0;
    return len > 2 && w[0] == '-' && w[1] == '-' && w[2] != '=' && w[2] != '-' &&
           !(len >= 7 && memcmp(w, "--type=", 7) == 0);
}

size_t chromeflags_split(const char *value, char *buf, size_t buflen, const char **words, size_t max)
{
    if (!value || buflen == 0 || strlen(value) >= buflen)
        return 0;
    size_t n = 0, used = 0;
    const char *p = value;
    while (*p && n < max) {
        while (blank(*p))
            p++;
        const char *start = p;
        while (*p && !blank(*p))
            p++;
        size_t len = (size_t)(p - start);
        if (!takes(start, len))
            continue;
        memcpy(buf + used, start, len);
        buf[used + len] = '\0';
        words[n++] = buf + used;
        used += len + 1;
    }
    return n;
}

size_t chromeflags_append(char *const argv[], const char *const *flags, size_t nflags, char **out,
                          size_t cap)
{
    size_t argc = 0;
    while (argv[argc])
        argc++;
    if (argc + nflags + 1 > cap)
        return 0;
    for (size_t i = 0; i < argc; i++)
        out[i] = argv[i];
    size_t added = 0;
    for (size_t f = 0; f < nflags; f++) {
        int present = 0;
        for (size_t i = 1; i < argc + added && !present; i++)
            present = strcmp(out[i], flags[f]) == 0;
        if (!present)
            out[argc + added++] = (char *)flags[f];
    }
    out[argc + added] = NULL;
    return added;
}

int chromeflags_has(const char *cmdline, size_t len, const char *flag)
{
    size_t flen = strlen(flag);
    for (size_t i = 0; i + flen <= len; i++) {
        if ((i == 0 || cmdline[i - 1] == '\0') && memcmp(cmdline + i, flag, flen) == 0 &&
            (i + flen == len || cmdline[i + flen] == '\0'))
            return 1;
    }
    return 0;
}
