/* B1's floor under the design: a preload library that does what the
 * design asks of a fork+exec in a session, and nothing else.
 *   - The parent records the child after the fork, the child records its
 *     exec before it (bench/min_recorder.c: the shim's two records, the
 *     same fields from the same sources, with the same registry API).
 *   - The new image finds that record in the session's registry (one
 *     record per exec), so that one started some other way (a raw execve)
 *     could record itself: the session from the environment, the uid from
 *     the auxiliary vector, the registry peeked with lib/registry.c's API
 *     (open, fstat, the header and the newest slots read, close: what the
 *     shim's constructor reads; made directly, as in the shim,
 *     lib/sysio.h), the entry matched by pid, parent and program name.
 * Nothing else: no environment check, no other wrapper, the real fork and
 * execve resolved on first use, the registry mapped by the first fork.
 * Its ratio to the empty library (bench/empty_preload.c) is the least a
 * fork+exec can cost in a session. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "min_recorder.h"
#include "registry.h"
#include "safestr.h"
#include "sysio.h"

#if defined(CR_HAVE_DIRECT_SYSCALLS)
#define own_pid() ((pid_t)cr_syscall(SYS_getpid, 0, 0, 0, 0))
#define parent_pid() ((pid_t)cr_syscall(SYS_getppid, 0, 0, 0, 0))
#else
#define own_pid() getpid()
#define parent_pid() getppid()
#endif

extern char **environ;

/* 1 when the constructor found its exec record (for a debugger). */
__attribute__((visibility("default"))) int chromereaper_bench_exec_recorded;

__attribute__((constructor)) static void find_exec_record(int argc, char **argv, char **envp)
{
    (void)argc;
    const char *session = NULL;
    for (char **e = envp; e && *e && !session; e++)
        session = cr_env_value(*e, "CHROMEREAPER_SESSION");
    if (!session || !*session || getauxval(AT_SECURE))
        return;
    struct cr_registry_peek peek;
    struct cr_entry e;
    if (registry_peek((uint32_t)getauxval(AT_UID), session, &peek, NULL, 0) != CR_REG_OK)
        return;
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    chromereaper_bench_exec_recorded =
        registry_peek_find(&peek, CR_PEEK_MAX, own_pid(), CR_SEEN_EXEC, &e) && e.ppid == parent_pid() &&
        execfn && strcmp(cr_basename(execfn), cr_basename(e.exe)) == 0;
    /* the role its own records go by: the exec record's, else its own
     * file's and arguments' (an image no exec wrapper recorded) */
    minrec_init(session, chromereaper_bench_exec_recorded ? (enum cr_role)e.role
                                                          : role_classify(execfn, (const char *const *)argv));
}

static minrec_fork_fn real_fork;
static minrec_execve_fn real_execve;

/* Both resolved by the parent before it forks: the child then calls no
 * dlsym (another thread may hold the loader's lock at the fork). */
static int resolve_real(void)
{
    if (!real_fork)
        real_fork = (minrec_fork_fn)dlsym(RTLD_NEXT, "fork");
    if (!real_execve)
        real_execve = (minrec_execve_fn)dlsym(RTLD_NEXT, "execve");
    if (real_fork && real_execve)
        return 0;
    errno = ENOSYS;
    return -1;
}

__attribute__((visibility("default"))) pid_t fork(void)
{
    return resolve_real() < 0 ? -1 : minrec_fork(real_fork);
}

/* execve and execv both: glibc's execv calls its own execve, not the
 * exported one (and a call to the exported one would be a lazy binding in
 * every fork child) */
static int execve_recorded(const char *path, char *const argv[], char *const envp[])
{
    return resolve_real() < 0 ? -1 : minrec_execve(real_execve, path, argv, envp);
}

__attribute__((visibility("default"))) int execve(const char *path, char *const argv[], char *const envp[])
{
    return execve_recorded(path, argv, envp);
}

__attribute__((visibility("default"))) int execv(const char *path, char *const argv[])
{
    return execve_recorded(path, argv, environ);
}
