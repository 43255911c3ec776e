/* Internal interface of the preload library.  The wrappers are thin: call
 * the real libc function, report what happened through shim_record_*.
 * Everything reachable from a wrapper is async-signal-safe and never
 * allocates: wrappers run in vfork children and after fork in threaded
 * programs. */
#ifndef CHROMEREAPER_SHIM_H
#define CHROMEREAPER_SHIM_H

#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "role.h"

/* Real libc functions, resolved once in the constructor.  Those after
 * mkdtemp are optional: a libc without one makes its wrapper fail with
 * ENOSYS instead of disabling the library. */
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
 * .preinit_array): resolve on first use then. */
void shim_resolve_real(void);
#define SHIM_REAL(f) (shim_real.f ? shim_real.f : (shim_resolve_real(), shim_real.f))

/* 1 once the constructor found a usable registry. */
int shim_active(void);
/* The role of the image this process runs (its fork children inherit it). */
enum cr_role shim_role(void);

/* A process this one started (fork/posix_spawn) or this process about to
 * exec (`pid` = 0): `argv` NULL means "same image as ours". */
void shim_record_process(pid_t pid, int seen_by, const char *exe, const char *const *argv);

/* posix_spawn(p) through `real`, with the session put back into `envp` and
 * the child recorded (the pid pointer may be NULL).  `envp` NULL means
 * environ.  Shared by the posix_spawn wrappers. */
int shim_spawn(shim_spawn_fn real, pid_t *pid, const char *file,
               const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
               char *const argv[], char *const envp[]);

/* A directory a browser-stack process created (mkdtemp) or named
 * (--user-data-dir); `absent` says it did not exist at launch. */
void shim_record_dir(const char *path, unsigned origin);

/* Environment for a child: `envp` plus our LD_PRELOAD entry and session
 * cookie where they are missing.  The caller supplies storage; returns
 * envp itself when nothing is missing, NULL when the storage is too small
 * (the caller then passes envp through untouched). */
struct shim_envbuf {
    char **slots;
    size_t nslots;
    char preload[4096];
};
/* Environments larger than this are passed through untouched (the child
 * then depends on inheriting the variables) rather than rebuilt in a stack
 * array of that size. */
#define SHIM_ENV_MAX_SLOTS 65536
size_t shim_env_count(char *const envp[]);
char *const *shim_env_with_session(char *const envp[], struct shim_envbuf *buf);

/* Built by the constructor, read-only afterwards. */
extern char shim_preload_entry[];  /* "LD_PRELOAD=/abs/path/libchromereaper.so" */
extern char shim_session_entry[];  /* "CHROMEREAPER_SESSION=<id>" */

/* Preload-only mode: start `chromereaper watch` for a session this process
 * just created (unless CHROMEREAPER_WATCHDOG=0). */
void shim_start_watchdog(const char *session);

/* The value of `name` in the environment the program started with (not
 * the host's getenv), or NULL; always NULL in secure execution. */
const char *shim_env(const char *name);
/* 1 in a setuid/setgid/capability program (AT_SECURE). */
int shim_secure(void);

/* Log to stderr with write(2) if CHROMEREAPER_LOG allows `level`
 * (0 error, 1 warn, 2 info, 3 debug). */
void shim_log(int level, const char *a, const char *b);

#endif
