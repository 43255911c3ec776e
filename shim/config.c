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

/* Read once by the constructor (a child before its exec then touches no
 * page of getauxval's); a wrapper that runs before it asks the kernel's
 * vector itself, writing nothing (it may be in a vfork child). */
static int secure, secure_known;

void shim_config_init(void)
{
    secure = getauxval(AT_SECURE) != 0;
    secure_known = 1;
}

int shim_secure(void)
{
    return secure_known ? secure : getauxval(AT_SECURE) != 0;
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
