/* posix_spawn(p): crashpad's double fork ends in posix_spawn(NULL, ...),
 * so a NULL pid pointer is replaced by our own to learn the child.
 *
 * x86_64 glibc has two versions of each: GLIBC_2.15, and GLIBC_2.2.5, which
 * older programs bind and which runs an executable without #! through
 * /bin/sh.  Both are exported under their version names, each calling the
 * real function of the same version (dlvsym), so a program gets exactly the
 * behaviour it was linked against. */
#include <errno.h>
#include <spawn.h>

#include "registry.h"
#include "shim.h"

int shim_spawn(shim_spawn_fn real, pid_t *pid, const char *file,
               const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
               char *const argv[], char *const envp[])
{
    if (!real)
        return ENOSYS;
    if (!shim_active())
        return real(pid, file, actions, attr, argv, envp);
    pid_t child = 0;
    /* NULL is an empty environment (the kernel's reading): the child gets
     * only what tracking needs */
    _Alignas(char *) char stack[SHIM_ENV_STACK_BYTES];
    struct shim_env env;
    shim_env_open(&env, envp, stack, 0);
    uint64_t before = shim_creation_mark();
    int rc = real(&child, file, actions, attr, argv, env.envp);
    uint64_t after = shim_boottime_ns();
    shim_env_close(&env);
    int saved = errno;
    if (rc == 0) {
        if (pid)
            *pid = child;
        shim_record_process(child, CR_SEEN_SPAWN, file, (const char *const *)argv, before, after);
    }
    shim_errno_restore(saved);
    return rc;
}

#define SPAWN_ARGS                                                                                 \
    pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,                       \
        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]

#if defined(__x86_64__)
/* posix_spawn@@GLIBC_2.15 (the default) and posix_spawn@GLIBC_2.2.5; the
 * functions' own names stay local (exports.map). */
#define SPAWN_NAME shim_posix_spawn
#define SPAWNP_NAME shim_posix_spawnp
__asm__(".symver shim_posix_spawn, posix_spawn@@GLIBC_2.15");
__asm__(".symver shim_posix_spawnp, posix_spawnp@@GLIBC_2.15");
__asm__(".symver shim_posix_spawn_compat, posix_spawn@GLIBC_2.2.5");
__asm__(".symver shim_posix_spawnp_compat, posix_spawnp@GLIBC_2.2.5");

__attribute__((visibility("default"))) int shim_posix_spawn_compat(SPAWN_ARGS)
{
    return shim_spawn(SHIM_REAL(posix_spawn_compat), pid, file, actions, attr, argv, envp);
}

__attribute__((visibility("default"))) int shim_posix_spawnp_compat(SPAWN_ARGS)
{
    return shim_spawn(SHIM_REAL(posix_spawnp_compat), pid, file, actions, attr, argv, envp);
}
#else
#define SPAWN_NAME posix_spawn
#define SPAWNP_NAME posix_spawnp
#endif

__attribute__((visibility("default"))) int SPAWN_NAME(SPAWN_ARGS)
{
    return shim_spawn(SHIM_REAL(posix_spawn), pid, file, actions, attr, argv, envp);
}

__attribute__((visibility("default"))) int SPAWNP_NAME(SPAWN_ARGS)
{
    return shim_spawn(SHIM_REAL(posix_spawnp), pid, file, actions, attr, argv, envp);
}
