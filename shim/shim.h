/* Internal interface of the preload library.  The wrappers are thin: call
 * the real libc function, report what happened through shim_record_*.
 * Everything reachable from a wrapper is async-signal-safe and never
 * allocates: wrappers run in vfork children and after fork in threaded
 * programs. */
#ifndef CHROMEREAPER_SHIM_H
#define CHROMEREAPER_SHIM_H

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "role.h"

/* Real libc functions: those a fork child may call resolved in the
 * constructor, the others on first use (shim/state.c).  All but fork,
 * execve and execvpe are optional: a libc without one makes its wrapper
 * fail with ENOSYS instead of disabling the library. */
typedef int (*shim_spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                             const posix_spawnattr_t *, char *const[], char *const[]);
struct shim_real {
    pid_t (*fork)(void);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    shim_spawn_fn posix_spawn;  /* the default version (GLIBC_2.15 on x86_64) */
    shim_spawn_fn posix_spawnp;
    char *(*mkdtemp)(char *);
    int (*clone)(int (*)(void *), void *, int, void *, ...);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    int (*fexecve)(int, char *const[], char *const[]);
    shim_spawn_fn posix_spawn_compat;  /* GLIBC_2.2.5: runs a script without #! through sh */
    shim_spawn_fn posix_spawnp_compat;
    int (*system)(const char *);
    FILE *(*popen)(const char *, const char *);
};
extern struct shim_real shim_real;

/* Wrappers can run before the constructor (another library's constructor,
 * .preinit_array), and some functions are resolved on first use. */
void shim_resolve_real(void);
#define SHIM_REAL(f) (shim_real.f ? shim_real.f : (shim_resolve_real(), shim_real.f))

/* errno put back as the caller had it, written only if it changed: after
 * a fork the page that holds it is shared with the child until either
 * writes it, and a write costs the parent a copy-on-write fault. */
static inline void shim_errno_restore(int saved)
{
    if (errno != saved)
        errno = saved;
}

/* 1 once the constructor found a usable registry. */
int shim_active(void);
/* Before creating a child that may record (fork, vfork, clone): the
 * registry is mapped on first use, and mapped now it is the child's too.
 * Async-signal-safe. */
void shim_prepare_children(void);
/* The role of the image this process runs (its fork children inherit it). */
enum cr_role shim_role(void);
/* role_classify of what an exec or spawn of `exe` runs: "/proc/self/exe"
 * is this process's own executable.  Async-signal-safe. */
enum cr_role shim_classify(const char *exe, const char *const *argv);

/* A process this one started (fork/posix_spawn) or this process about to
 * exec (`pid` = 0): `argv` NULL means "same image as ours".  A child's
 * `before` and `after` are shim_creation_mark() and shim_boottime_ns()
 * read around its creation (0: unknown). */
void shim_record_process(pid_t pid, int seen_by, const char *exe, const char *const *argv,
                         uint64_t before, uint64_t after);

/* Identity (shim/identity.c): the process's own, cached by the
 * constructor, and a child's start time bracketed by CLOCK_BOOTTIME.  All
 * async-signal-safe; only the constructor's calls write anything global. */
struct cr_entry;
void shim_identity_init(void);                      /* from /proc/self/stat */
void shim_identity_adopt(const struct cr_entry *e); /* from our exec wrapper's record */
/* The reading before creating a process, also left as this thread's mark. */
uint64_t shim_creation_mark(void);
uint64_t shim_creation_mark_read(void);
/* Called before a clone whose child shares our memory without our thread
 * waiting (CLONE_VM, no CLONE_VFORK): marks stop counting for children. */
void shim_identity_shared_vm_child(void);
uint64_t shim_boottime_ns(void);
void shim_identity_self(struct cr_entry *e);
void shim_identity_child(struct cr_entry *e, pid_t pid, uint64_t before, uint64_t after);
/* pid and start time of this very process from the cache: -1 when it
 * describes another (this is a fork or vfork child). */
int shim_identity_start(pid_t *pid, uint64_t *start_time);

/* posix_spawn(p) through `real`, with the session put back into `envp` and
 * the child recorded (the pid pointer may be NULL).  `envp` NULL means
 * environ.  Shared by the posix_spawn wrappers. */
int shim_spawn(shim_spawn_fn real, pid_t *pid, const char *file,
               const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
               char *const argv[], char *const envp[]);

/* In a fork or clone child (never a vfork child), before anything else:
 * a zygote's children (renderers, gpu and utility processes) run web
 * content or talk to it, and never exec; they must hold no writable
 * registry, so the child unmaps it (the zygote records them).
 * `parent_was_ns_init`: the parent was PID 1 of its PID namespace.
 * Async-signal-safe. */
void shim_forked_by_zygote(int parent_was_ns_init);

/* A directory a browser-stack process created (mkdtemp) or named
 * (--user-data-dir); `absent` says it did not exist at launch. */
void shim_record_dir(const char *path, unsigned origin);

/* Environment for a child: `envp` (NULL is an empty one) plus our
 * LD_PRELOAD entry and session cookie where they are missing, built in
 * `stack` (SHIM_ENV_STACK_BYTES, pointer-aligned, the caller's) when it
 * fits, else in a mapping.  e->envp is envp itself when nothing is missing,
 * or when there was no room (the child then goes untracked, with one
 * warning).  `for_exec`: the caller execs next, maybe in a vfork child;
 * the mapping is then noted for shim_env_reclaim.  shim_env_close undoes
 * it all (after a failed exec, or a spawn).  Async-signal-safe. */
#define SHIM_ENV_STACK_BYTES 2048
struct shim_env {
    char *const *envp;
    void *map;
    size_t len;
    int pending;
};
void shim_env_open(struct shim_env *e, char *const envp[], char *stack, int for_exec);
/* 1 when `envp` has our LD_PRELOAD entry and a session already: it goes to
 * the child as it is, and no buffer is needed. */
int shim_env_carries_session(char *const envp[]);
void shim_env_close(struct shim_env *e);
/* In the parent, once a vfork child has exec'd or exited: unmaps what it
 * mapped for its exec. */
void shim_env_reclaim(pid_t child);
size_t shim_env_count(char *const envp[]);

/* Built by the constructor, read-only afterwards. */
extern char *shim_preload_entry;  /* "LD_PRELOAD=/abs/path/libchromereaper.so" (preload_entry.c) */
int shim_preload_entry_set(const char *path);
extern char shim_session_entry[]; /* "CHROMEREAPER_SESSION=<id>" */

/* Preload-only mode: start `chromereaper watch` for a session this process
 * just created (unless CHROMEREAPER_WATCHDOG=0). */
void shim_start_watchdog(const char *session);

/* The value of `name` in the environment the program started with (not
 * the host's getenv), or NULL; always NULL in secure execution. */
const char *shim_env(const char *name);
/* 1 in a setuid/setgid/capability program (AT_SECURE). */
int shim_secure(void);
/* The constructor's first step: what shim_secure answers from then on. */
void shim_config_init(void);

/* Log to stderr with write(2) if CHROMEREAPER_LOG allows `level`
 * (0 error, 1 warn, 2 info, 3 debug). */
void shim_log(int level, const char *a, const char *b);

#endif
