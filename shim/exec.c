/* The exec family.  glibc's execv/execvp/execl* call internal aliases, not
 * the exported execve, so each is wrapped here and funnelled into the real
 * execve or execvpe.  These run in vfork children (Python starts
 * chromedriver that way): stack storage only, no writes to globals, and the
 * caller's environ is never modified: a rebuilt environment is a new array. */
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

#include "registry.h"
#include "shim.h"

extern char **environ;

typedef int (*exec_fn)(const char *, char *const[], char *const[]);

static int exec_tracked(exec_fn real, const char *file, char *const argv[], char *const envp[])
{
    if (!shim_active())
        return real(file, argv, envp);
    shim_record_process(0, CR_SEEN_EXEC, file, (const char *const *)argv);

    /* too large an environment is passed through rather than rebuilt */
    size_t need = shim_env_count(envp) + 3;
    char *slots[need <= SHIM_ENV_MAX_SLOTS ? need : 1];
    struct shim_envbuf buf = {.slots = slots, .nslots = sizeof slots / sizeof *slots};
    char *const *env = shim_env_with_session(envp, &buf);
    int rc = real(file, argv, env ? env : envp);
    int saved = errno;
    /* still running the old image: say so, so the role is not misread */
    shim_record_process(0, CR_SEEN_EXEC_FAILED, NULL, NULL);
    errno = saved;
    return rc;
}

__attribute__((visibility("default"))) int execve(const char *path, char *const argv[],
                                                  char *const envp[])
{
    return exec_tracked(SHIM_REAL(execve), path, argv, envp);
}

__attribute__((visibility("default"))) int execv(const char *path, char *const argv[])
{
    return exec_tracked(SHIM_REAL(execve), path, argv, environ);
}

__attribute__((visibility("default"))) int execvpe(const char *file, char *const argv[],
                                                   char *const envp[])
{
    return exec_tracked(SHIM_REAL(execvpe), file, argv, envp);
}

__attribute__((visibility("default"))) int execvp(const char *file, char *const argv[])
{
    return exec_tracked(SHIM_REAL(execvpe), file, argv, environ);
}

/* execl*: count the variadic arguments, then copy them into an argv on
 * the stack, as musl does.  `ap` is passed by pointer so execle can go on
 * to read its trailing environment. */
static size_t count_varargs(const char *arg0, va_list *ap)
{
    size_t n = 0;
    if (arg0)
        while (va_arg(*ap, const char *))
            n++;
    return n;
}

/* argv[0..n] from arg0 and the n arguments after it, then NULL. */
static void copy_varargs(char **argv, const char *arg0, va_list *ap, size_t n)
{
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(*ap, char *);
    if (arg0)
        (void)va_arg(*ap, char *); /* step over the terminating NULL */
    argv[n + 1] = NULL;
}

#define EXEC_VARARGS(real, file, arg, envp_decl, envp_read)                                     \
    va_list ap;                                                                                 \
    va_start(ap, arg);                                                                          \
    size_t n = count_varargs(arg, &ap);                                                         \
    va_end(ap);                                                                                 \
    char *argv[n + 2];                                                                          \
    envp_decl;                                                                                  \
    va_start(ap, arg);                                                                          \
    copy_varargs(argv, arg, &ap, n);                                                            \
    envp_read;                                                                                  \
    va_end(ap);                                                                                 \
    return exec_tracked(real, file, argv, envp)

__attribute__((visibility("default"))) int execl(const char *path, const char *arg, ...)
{
    EXEC_VARARGS(SHIM_REAL(execve), path, arg, char *const *envp = environ, (void)0);
}

__attribute__((visibility("default"))) int execlp(const char *file, const char *arg, ...)
{
    EXEC_VARARGS(SHIM_REAL(execvpe), file, arg, char *const *envp = environ, (void)0);
}

__attribute__((visibility("default"))) int execle(const char *path, const char *arg, ...)
{
    EXEC_VARARGS(SHIM_REAL(execve), path, arg, char *const *envp,
                 envp = va_arg(ap, char *const *));
}
