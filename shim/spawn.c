/* posix_spawn(p): crashpad's double fork ends in posix_spawn(NULL, ...),
 * so a NULL pid pointer is replaced by our own to learn the child. */
#include <errno.h>
#include <spawn.h>

#include "registry.h"
#include "shim.h"

extern char **environ;

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn_tracked(spawn_fn real, pid_t *pid, const char *file,
                         const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                         char *const argv[], char *const envp[])
{
    if (!shim_active())
        return real(pid, file, actions, attr, argv, envp);
    pid_t child = 0;
    /* too large an environment is passed through rather than rebuilt */
    size_t need = shim_env_count(envp) + 3;
    char *slots[need <= SHIM_ENV_MAX_SLOTS ? need : 1];
    struct shim_envbuf buf = {.slots = slots, .nslots = sizeof slots / sizeof *slots};
    char *const *env = shim_env_with_session(envp, &buf);
    int rc = real(&child, file, actions, attr, argv, env ? env : envp);
    int saved = errno;
    if (rc == 0) {
        if (pid)
            *pid = child;
        shim_record_process(child, CR_SEEN_SPAWN, file, (const char *const *)argv);
    }
    errno = saved;
    return rc;
}

__attribute__((visibility("default"))) int posix_spawn(pid_t *pid, const char *path,
                                                       const posix_spawn_file_actions_t *actions,
                                                       const posix_spawnattr_t *attr,
                                                       char *const argv[], char *const envp[])
{
    return spawn_tracked(SHIM_REAL(posix_spawn), pid, path, actions, attr, argv,
                         envp ? envp : environ);
}

__attribute__((visibility("default"))) int posix_spawnp(pid_t *pid, const char *file,
                                                        const posix_spawn_file_actions_t *actions,
                                                        const posix_spawnattr_t *attr,
                                                        char *const argv[], char *const envp[])
{
    return spawn_tracked(SHIM_REAL(posix_spawnp), pid, file, actions, attr, argv,
                         envp ? envp : environ);
}
