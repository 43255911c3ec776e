/* What the library takes from the environment: read from `environ` as the
 * program was started (the constructor runs before main), never through
 * getenv, which the host may replace (bash brings its own getenv and
 * setenv, and its getenv stops seeing the initial environment once its
 * setenv has run).  In secure execution (setuid, setgid, file
 * capabilities: AT_SECURE) nothing is taken from it at all: the
 * environment belongs to the less privileged caller. */
#include <stddef.h>
#include <sys/auxv.h>

#include "safestr.h"
#include "shim.h"

extern char **environ;

int shim_secure(void)
{
    return getauxval(AT_SECURE) != 0;
}

const char *shim_env(const char *name)
{
    if (shim_secure())
        return NULL;
    for (char **e = environ; e && *e; e++) {
        const char *v = cr_env_value(*e, name);
        if (v)
            return v;
    }
    return NULL;
}
