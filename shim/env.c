/* The environment a tracked process hands its children: the caller's own
 * entries plus our LD_PRELOAD entry and session cookie where missing.  A
 * new array is built in storage the caller keeps on its stack (never a
 * mapping: in a vfork child it would stay in the parent after the exec);
 * the caller's environ is never written to, since gcc and gdb save and
 * restore it around vfork+exec. */
#include <string.h>

#include "safestr.h"
#include "shim.h"

size_t shim_env_count(char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

/* Is our library one of the entries of an LD_PRELOAD value (separated by
 * spaces or colons)? */
static int preload_has_us(const char *value)
{
    const char *ours = shim_preload_entry + sizeof "LD_PRELOAD=" - 1;
    size_t n = strlen(ours);
    for (const char *p = value; (p = strstr(p, ours)) != NULL; p += n) {
        int starts = p == value || p[-1] == ' ' || p[-1] == ':';
        int ends = p[n] == '\0' || p[n] == ' ' || p[n] == ':';
        if (starts && ends)
            return 1;
    }
    return 0;
}

char *const *shim_env_with_session(char *const envp[], struct shim_envbuf *buf)
{
    size_t n = shim_env_count(envp);
    ssize_t preload_at = -1, empty_session_at = -1;
    int has_session = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
            preload_at = (ssize_t)i;
        else if (strncmp(envp[i], "CHROMEREAPER_SESSION=", 21) == 0) {
            if (envp[i][21])
                has_session = 1;
            else if (empty_session_at < 0)
                empty_session_at = (ssize_t)i;
        }
    }
    int preload_ok = preload_at >= 0 && preload_has_us(envp[preload_at] + 11);
    if (has_session && preload_ok)
        return envp;
    if (n + 3 > buf->nslots)
        return NULL;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if ((ssize_t)i == preload_at && !preload_ok) {
            /* ours first, then whatever the caller preloads */
            const char *theirs = envp[i] + 11;
            buf->preload[0] = '\0';
            cr_strlcat(buf->preload, shim_preload_entry, sizeof buf->preload);
            if (*theirs) {
                cr_strlcat(buf->preload, " ", sizeof buf->preload);
                if (cr_strlcat(buf->preload, theirs, sizeof buf->preload) >= sizeof buf->preload)
                    return NULL;
            }
            buf->slots[out++] = buf->preload;
            continue;
        }
        if (!has_session && (ssize_t)i == empty_session_at) {
            /* getenv() finds the first one: ours must take its place */
            buf->slots[out++] = shim_session_entry;
            continue;
        }
        buf->slots[out++] = envp[i];
    }
    if (preload_at < 0)
        buf->slots[out++] = shim_preload_entry;
    if (!has_session && empty_session_at < 0)
        buf->slots[out++] = shim_session_entry;
    buf->slots[out] = NULL;
    return buf->slots;
}

