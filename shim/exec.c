/* The exec family.  glibc's execv/execvp/execl* call internal aliases, not
 * the exported execve, so each is wrapped here and funnelled into the real
 * execve or execvpe.  These run in vfork children (Python starts
 * chromedriver that way): stack storage only, no writes to globals, and the
 * caller's environ is never modified: a rebuilt environment is a new array. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <unistd.h>

#include "chromeflags.h"
#include "procfs.h"
#include "registry.h"
#include "safestr.h"
#include "shim.h"

extern char **environ;

typedef int (*exec_fn)(const char *, char *const[], char *const[]);

/* One exec call: by path (execve, execvpe), relative to a directory
 * descriptor (execveat), or of an open file (fexecve). */
struct exec_call {
    exec_fn by_path;
    int (*at)(int, const char *, char *const[], char *const[], int);
    int (*by_fd)(int, char *const[], char *const[]);
    const char *file;
    int fd, flags;
};

static int exec_real(const struct exec_call *c, char *const argv[], char *const envp[])
{
    if (c->by_path)
        return c->by_path(c->file, argv, envp);
    if (c->at)
        return c->at(c->fd, c->file, argv, envp, c->flags);
    if (c->by_fd)
        return c->by_fd(c->fd, argv, envp);
    errno = ENOSYS;
    return -1;
}

/* The exec with the session put back into envp.  Its own frame, entered
 * only when envp lacks something: a fork child's stack pages are copied on
 * its first write to each, and the buffer would take the frames below it
 * onto another page. */
__attribute__((noinline)) static int exec_with_session(const struct exec_call *c,
                                                       char *const argv[], char *const envp[])
{
    _Alignas(char *) char stack[SHIM_ENV_STACK_BYTES];
    struct shim_env env;
    shim_env_open(&env, envp, stack, 1);
    int rc = exec_real(c, argv, env.envp);
    shim_env_close(&env);
    return rc;
}

static int exec_session(const struct exec_call *c, const char *exe, char *const argv[],
                        char *const envp[])
{
    shim_record_process(0, CR_SEEN_EXEC, exe, (const char *const *)argv, 0, 0);
    int rc = shim_env_carries_session(envp) ? exec_real(c, argv, envp)
                                             : exec_with_session(c, argv, envp);
    int saved = errno;
    /* still running the old image: say so, so the role is not misread */
    shim_record_process(0, CR_SEEN_EXEC_FAILED, NULL, NULL, 0, 0);
    shim_errno_restore(saved);
    return rc;
}

/* A browser's main process (its helpers carry --type=) gets the switches
 * of CHROMEREAPER_CHROME_FLAGS it lacks, in a new argv on this frame's
 * stack: the buffers cost stack only on this path. */
static int exec_browser(const struct exec_call *c, const char *exe, char *const argv[],
                        char *const envp[], const char *flags_value)
{
    char buf[CR_CHROME_FLAGS_LEN];
    const char *flags[CR_CHROME_FLAGS_MAX];
    char *with_flags[CR_CHROME_FLAGS_ARGV_MAX];
    size_t n = chromeflags_split(flags_value, buf, sizeof buf, flags, CR_CHROME_FLAGS_MAX);
    if (n && chromeflags_append(argv, flags, n, with_flags, CR_CHROME_FLAGS_ARGV_MAX))
        argv = with_flags;
    return exec_session(c, exe, argv, envp);
}

static int exec_tracked_call(const struct exec_call *c, const char *exe, char *const argv[],
                             char *const envp[])
{
    if (!shim_active())
        return exec_real(c, argv, envp);
    const char *flags = shim_env(CR_CHROME_FLAGS_VAR);
    if (flags && *flags && argv && shim_classify(exe, (const char *const *)argv) == CR_ROLE_BROWSER)
        return exec_browser(c, exe, argv, envp, flags);
    return exec_session(c, exe, argv, envp);
}

static int exec_tracked(exec_fn real, const char *file, char *const argv[], char *const envp[])
{
    struct exec_call c = {.by_path = real, .file = file};
    return exec_tracked_call(&c, file, argv, envp);
}

/* What an execveat/fexecve runs, for the record: `rel` as given when it is
 * absolute or relative to the working directory, else the descriptor's
 * path (from /proc/self/fd) joined with it.  Stack storage only. */
static const char *fd_path(int fd, const char *rel, char *buf, size_t cap)
{
    if (rel && (rel[0] == '/' || (fd == AT_FDCWD && rel[0])))
        return rel;
    char num[24], link[64];
    cr_utoa((uint64_t)(fd < 0 ? 0 : fd), num, sizeof num);
    cr_strlcpy(link, "fd/", sizeof link);
    cr_strlcat(link, num, sizeof link);
    char path[64];
    if (fd < 0 || proc_path(path, sizeof path, 0, link) < 0)
        return rel ? rel : "";
    ssize_t n = readlink(path, buf, cap - 1);
    if (n <= 0)
        return rel ? rel : "";
    buf[n] = '\0';
    if (rel && rel[0]) {
        cr_strlcat(buf, "/", cap);
        cr_strlcat(buf, rel, cap);
    }
    return buf;
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

/* execveat(2) and fexecve(3): glibc runs both on the execveat system call
 * (fexecve falls back to /proc/self/fd), never through execve. */
__attribute__((visibility("default"))) int execveat(int dirfd, const char *path,
                                                    char *const argv[], char *const envp[],
                                                    int flags)
{
    struct exec_call c = {.at = SHIM_REAL(execveat), .file = path, .fd = dirfd, .flags = flags};
    if (!c.at) {
        errno = ENOSYS;
        return -1;
    }
    char buf[CR_EXE_MAX]; /* the record holds no more */
    return exec_tracked_call(&c, shim_active() ? fd_path(dirfd, path, buf, sizeof buf) : path,
                             argv, envp);
}

__attribute__((visibility("default"))) int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct exec_call c = {.by_fd = SHIM_REAL(fexecve), .fd = fd};
    if (!c.by_fd) {
        errno = ENOSYS;
        return -1;
    }
    char buf[CR_EXE_MAX]; /* the record holds no more */
    return exec_tracked_call(&c, shim_active() ? fd_path(fd, NULL, buf, sizeof buf) : NULL, argv,
                             envp);
}
