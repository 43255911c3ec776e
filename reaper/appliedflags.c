#include "appliedflags.h"

#include <stdlib.h>
#include <string.h>

#include "chromeflags.h"
#include "procfs.h"
#include "safestr.h"

#define ENVIRON_MAX (128 * 1024)

size_t applied_chrome_flags(pid_t pid, char *out, size_t cap)
{
    out[0] = '\0';
    char *env = malloc(ENVIRON_MAX), cmdline[16384];
    size_t elen = 0, clen = 0, n = 0;
    if (!env)
        abort();
    if (proc_file_read(pid, "environ", env, ENVIRON_MAX, &elen) == 0 &&
        proc_file_read(pid, "cmdline", cmdline, sizeof cmdline, &clen) == 0) {
        const char *value = NULL;
        for (size_t i = 0; i < elen && !value; i += strlen(env + i) + 1)
            value = cr_env_value(env + i, CR_CHROME_FLAGS_VAR);
        char buf[CR_CHROME_FLAGS_LEN];
        const char *flags[CR_CHROME_FLAGS_MAX];
        size_t nflags = chromeflags_split(value, buf, sizeof buf, flags, CR_CHROME_FLAGS_MAX);
        for (size_t f = 0; f < nflags; f++) {
            if (!chromeflags_has(cmdline, clen, flags[f]))
                continue;
            if (n++)
                cr_strlcat(out, " ", cap);
            cr_strlcat(out, flags[f], cap);
        }
    }
    free(env);
    return n;
}
