/* B1's floor under the design: a preload library whose constructor does
 * what the design asks of every new image in a session, and nothing else.
 * The exec wrapper of the image before it recorded the exec (one record
 * per exec); the new image must find that record in the session's
 * registry, so that one started some other way (a raw execve) can record
 * itself.  So: the session from the environment, the uid from the
 * auxiliary vector, the registry peeked with lib/registry.c's API (open,
 * fstat, the header and the newest slots read, close: what the shim's
 * constructor reads; made directly, as in the shim, lib/sysio.h), and the
 * entry matched by pid, parent and program name.  No record is made, no
 * real function resolved, nothing mapped.
 * Its ratio to the empty library (bench/empty_preload.c) is the least an
 * exec can cost in a session; the fork and exec wrappers' records are on
 * top of it. */
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

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

/* 1 when the constructor found its exec record (for a debugger). */
__attribute__((visibility("default"))) int chromereaper_bench_exec_recorded;

__attribute__((constructor)) static void find_exec_record(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
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
}
