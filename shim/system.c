/* system() and popen().  glibc starts their shell through internal calls
 * that no wrapper sees, with environ as it is: after unsetenv("LD_PRELOAD")
 * that shell, and everything it runs, would be invisible.  When environ
 * lacks the library or the session, the command handed to glibc's own
 * system()/popen() is wrapped so that the shell first puts them back, then
 * becomes (exec) the shell that runs the command:
 *
 *   export LD_PRELOAD='<ours> <theirs>' CHROMEREAPER_SESSION='<id>';
 *   exec /bin/sh -c '<command>' sh
 *
 * Quoting grows the command (a quote takes four bytes), and the kernel
 * takes no single argument past MAX_ARG_STRLEN nor arguments and
 * environment past ARG_MAX: when the quoted form would not fit, the
 * command follows the export as it is (the shell then runs it untracked
 * itself, its children tracked); when even that would not fit, glibc gets
 * the command as it is, with one warning.
 *
 * Everything else — signals while waiting, statuses, streams, pclose() —
 * stays glibc's, so pclose() needs no wrapper.  Neither runs in a vfork
 * child: malloc is fine.  environ is never written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safestr.h"
#include "shim.h"

extern char **environ;

/* Appends s to out in single quotes (a quote inside becomes '\''). */
static char *put_quoted(char *out, const char *s)
{
    *out++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(out, "'\\''", 4);
            out += 4;
        } else {
            *out++ = *s;
        }
    }
    *out++ = '\'';
    return out;
}

static char *put(char *out, const char *s)
{
    size_t n = strlen(s);
    memcpy(out, s, n);
    return out + n;
}

/* The kernel's limit on one argument (include/uapi/linux/binfmts.h). */
#define MAX_ARG_STRLEN (32u * 4096u)

/* Would `sh -c <len bytes>` with environ still be accepted by execve? */
static int fits(size_t len)
{
    if (len + 1 > MAX_ARG_STRLEN)
        return 0;
    size_t total = len + 1 + sizeof "/bin/sh" + sizeof "-c" + 4 * sizeof(char *);
    for (char **e = environ; e && *e; e++)
        total += strlen(*e) + 1 + sizeof(char *);
    long max = sysconf(_SC_ARG_MAX);
    return max <= 0 || total <= (size_t)max;
}

/* The wrapped command, malloc'd; NULL when environ already carries the
 * library and the session (or on allocation failure, or when no form
 * fits: then as it is). */
static char *wrap_command(const char *command)
{
    _Alignas(char *) char stack[SHIM_ENV_STACK_BYTES];
    struct shim_env e;
    shim_env_open(&e, environ, stack, 0);
    const char *preload = NULL, *session = NULL;
    for (size_t i = 0; e.envp != environ && e.envp[i]; i++) {
        const char *v;
        if (!preload && (v = cr_env_value(e.envp[i], "LD_PRELOAD")))
            preload = v;
        else if (!session && (v = cr_env_value(e.envp[i], "CHROMEREAPER_SESSION")) && *v)
            session = v;
    }
    char *wrapped = NULL;
    size_t quotes = 0, n = strlen(command);
    for (const char *c = command; *c; c++)
        quotes += *c == '\'';
    if (preload && session) {
        /* every byte of the variables quoted at most 4 times over */
        size_t head = 4 * (strlen(preload) + strlen(session)) + 64;
        size_t quoted = head + sizeof "; exec /bin/sh -c '' sh" + n + 3 * quotes;
        int exec_form = fits(quoted);
        if (!exec_form && !fits(head + n))
            shim_log(1, "command too long to add the session: what it starts is not tracked", NULL);
        else if ((wrapped = malloc(quoted + 1)) != NULL) {
            char *p = put(wrapped, "export LD_PRELOAD=");
            p = put_quoted(p, preload);
            p = put(p, " CHROMEREAPER_SESSION=");
            p = put_quoted(p, session);
            if (exec_form) {
                p = put(p, "; exec /bin/sh -c ");
                p = put_quoted(p, command);
                p = put(p, " sh");
            } else {
                p = put(p, "; ");
                p = put(p, command);
            }
            *p = '\0';
        }
    }
    shim_env_close(&e);
    return wrapped;
}

__attribute__((visibility("default"))) int system(const char *command)
{
    int (*real)(const char *) = SHIM_REAL(system);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    char *wrapped = command && shim_active() ? wrap_command(command) : NULL;
    int rc = real(wrapped ? wrapped : command);
    int saved = errno;
    free(wrapped);
    shim_errno_restore(saved);
    return rc;
}

__attribute__((visibility("default"))) FILE *popen(const char *command, const char *mode)
{
    FILE *(*real)(const char *, const char *) = SHIM_REAL(popen);
    if (!real) {
        errno = ENOSYS;
        return NULL;
    }
    char *wrapped = command && shim_active() ? wrap_command(command) : NULL;
    FILE *f = real(wrapped ? wrapped : command, mode);
    int saved = errno;
    free(wrapped);
    shim_errno_restore(saved);
    return f;
}
