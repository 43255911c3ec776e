#include "safestr.h"

#include <string.h>

size_t cr_strlcpy(char *dst, const char *src, size_t len)
{
    size_t n = strlen(src);
    if (len > 0) {
        size_t c = n < len - 1 ? n : len - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

size_t cr_strlcat(char *dst, const char *src, size_t len)
{
    size_t have = strnlen(dst, len);
    if (have == len)
        return have + strlen(src);
    return have + cr_strlcpy(dst + have, src, len - have);
}

size_t cr_utoa(uint64_t v, char *buf, size_t len)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (len == 0)
        return 0;
    if (n + 1 > len) {
        buf[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int cr_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

const char *cr_env_value(const char *s, const char *name)
{
    if (name[0] && s[0] != name[0]) /* most entries, at no call: environments are scanned often */
        return NULL;
    size_t n = strlen(name);
    if (strncmp(s, name, n) == 0 && s[n] == '=')
        return s + n + 1;
    return NULL;
}

const char *cr_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
