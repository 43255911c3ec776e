/* B1/B2 in one process, arms interleaved on every iteration:
 *
 *   abloop exec|fork PAIRS ARM_A ARM_B EMPTY_LIB [FLOOR_LIB]
 *
 * Run under LD_PRELOAD=libchromereaper.so in a session of its own.  Each
 * pair is one iteration of ARM_A and one of ARM_B, back to back (A B, then
 * B A, so neither arm is always the first), each timed on its own with
 * CLOCK_MONOTONIC: fork, then in the child `_exit(0)` (fork) or an execve
 * of /bin/true (exec), then waitpid.  An arm is
 *   shim  the normal symbols fork/execve, i.e. the preloaded wrappers; the
 *         exec passes this process's environment, so /bin/true loads the
 *         shim (its constructor runs there);
 *   libc  libc's own fork/execve, looked up in libc itself (the wrappers
 *         are bypassed); the exec passes the same environment with
 *         LD_PRELOAD=EMPTY_LIB, so /bin/true loads the empty library: the
 *         baseline, what loading any library costs.
 *   floor B1's floor under the design: libc's fork and execve with the
 *         two records the shim makes (bench/min_recorder.c: the parent's
 *         record of the child after the fork, the child's record of its
 *         exec before it), the exec passing LD_PRELOAD=FLOOR_LIB
 *         (bench/min_recorder_preload.c: its constructor finds that exec
 *         record in the session's registry).
 * ARM_A = ARM_B is the A/A check.  Both arms fork this same process, so
 * what the library's mere presence costs a fork (its mappings, the
 * registry's) is in both and cancels out: separate processes measure that.
 *
 * Prints one line per pair, "A_NS B_NS", then
 * "registry records R overflow O capacity C wrapped W floor F" of the
 * session, read after the loop: R records for W iterations of the shim arm
 * and F of the floor arm (warm-up included), O of them refused (a full
 * registry makes every wrapped call dearer). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "min_recorder.h"
#include "registry.h"

#define WARMUP 5

extern char **environ;

typedef pid_t (*fork_fn)(void);
typedef int (*execve_fn)(const char *, char *const[], char *const[]);

struct arm {
    fork_fn fork;
    execve_fn execve;
    char *const *envp;
};

static char *const true_argv[] = {"true", NULL};

/* The floor arm's fork and execve: libc's, recorded as the design asks. */
static fork_fn libc_fork;
static execve_fn libc_execve;

static pid_t floor_fork(void) { return minrec_fork(libc_fork); }

static int floor_execve(const char *path, char *const argv[], char *const envp[])
{
    return minrec_execve(libc_execve, path, argv, envp);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* environ with its LD_PRELOAD entry (or a new one) naming `lib` instead. */
static char **environ_preloading(const char *lib)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    size_t len = strlen("LD_PRELOAD=") + strlen(lib) + 1;
    char *entry = malloc(len);
    if (!env || !entry)
        return NULL;
    snprintf(entry, len, "LD_PRELOAD=%s", lib);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    env[k] = entry;
    return env;
}

/* One iteration: its wall time in ns, or -1 if the child failed. */
static long long iterate(const struct arm *a, int do_exec)
{
    long long t0 = now_ns();
    pid_t pid = a->fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (do_exec)
            a->execve("/bin/true", true_argv, a->envp);
        _exit(do_exec ? 127 : 0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return now_ns() - t0;
}

static int arm_named(const char *name, struct arm *a, const struct arm *shim, const struct arm *libc,
                     const struct arm *floor)
{
    if (strcmp(name, "shim") == 0)
        *a = *shim;
    else if (strcmp(name, "libc") == 0)
        *a = *libc;
    else if (strcmp(name, "floor") == 0 && floor->envp)
        *a = *floor;
    else
        return -1;
    return 0;
}

static void print_registry(long wrapped, long floor)
{
    const char *session = getenv("CHROMEREAPER_SESSION");
    struct cr_registry reg;
    char why[256];
    if (!session || registry_open(&reg, (uint32_t)getuid(), session, 0, why, sizeof why) != CR_REG_OK) {
        printf("registry none\n");
        return;
    }
    printf("registry records %llu overflow %u capacity %u wrapped %ld floor %ld\n",
           (unsigned long long)__atomic_load_n(&reg.hdr->entry_next, __ATOMIC_ACQUIRE),
           registry_overflow(&reg), reg.entry_capacity, wrapped, floor);
    registry_close(&reg);
}

int main(int argc, char **argv)
{
    if ((argc != 6 && argc != 7) || (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "fork") != 0)) {
        fprintf(stderr, "usage: abloop exec|fork PAIRS shim|libc|floor shim|libc|floor EMPTY_LIB [FLOOR_LIB]\n");
        return 2;
    }
    int do_exec = strcmp(argv[1], "exec") == 0;
    long pairs = strtol(argv[2], NULL, 10);
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    struct arm shim_arm = {fork, execve, environ};
    struct arm libc_arm = {NULL, NULL, environ_preloading(argv[5])};
    if (libc) {
        libc_arm.fork = (fork_fn)dlsym(libc, "fork");
        libc_arm.execve = (execve_fn)dlsym(libc, "execve");
    }
    libc_fork = libc_arm.fork;
    libc_execve = libc_arm.execve;
    struct arm floor_arm = {floor_fork, floor_execve, argc == 7 ? environ_preloading(argv[6]) : NULL};
    if (floor_arm.envp &&
        minrec_init(getenv("CHROMEREAPER_SESSION"),
                    role_classify((const char *)getauxval(AT_EXECFN), (const char *const *)argv)) < 0) {
        fprintf(stderr, "abloop: the floor arm needs a session (CHROMEREAPER_SESSION)\n");
        return 1;
    }
    if (!libc_arm.fork || !libc_arm.execve || !libc_arm.envp || pairs < 1) {
        fprintf(stderr, "abloop: cannot find libc's fork/execve\n");
        return 1;
    }
    /* without the shim in front of libc the "shim" arm would be libc's */
    if (dlsym(RTLD_DEFAULT, "fork") == (void *)libc_arm.fork ||
        dlsym(RTLD_DEFAULT, "execve") == (void *)libc_arm.execve) {
        fprintf(stderr, "abloop: fork/execve are libc's: run me under LD_PRELOAD=libchromereaper.so\n");
        return 1;
    }
    struct arm arms[2];
    if (arm_named(argv[3], &arms[0], &shim_arm, &libc_arm, &floor_arm) < 0 ||
        arm_named(argv[4], &arms[1], &shim_arm, &libc_arm, &floor_arm) < 0) {
        fprintf(stderr, "abloop: an arm is shim, libc, or floor (with FLOOR_LIB)\n");
        return 2;
    }
    int shim_arms = (strcmp(argv[3], "shim") == 0) + (strcmp(argv[4], "shim") == 0);
    int floor_arms = (strcmp(argv[3], "floor") == 0) + (strcmp(argv[4], "floor") == 0);
    long long *ns = calloc((size_t)pairs * 2, sizeof *ns);
    if (!ns) {
        perror("abloop");
        return 1;
    }
    /* first calls resolve symbols and fault pages in: not measured */
    for (int i = 0; i < WARMUP; i++)
        for (int k = 0; k < 2; k++)
            if (iterate(&arms[k], do_exec) < 0) {
                fprintf(stderr, "abloop: %s arm's child failed\n", argv[3 + k]);
                return 1;
            }
    for (long i = 0; i < pairs; i++) {
        int first = (int)(i & 1); /* A B, B A, A B ... */
        for (int j = 0; j < 2; j++) {
            int k = first ^ j;
            long long t = iterate(&arms[k], do_exec);
            if (t < 0) {
                fprintf(stderr, "abloop: %s arm's child failed in pair %ld\n", argv[3 + k], i);
                return 1;
            }
            ns[2 * i + k] = t;
        }
    }
    for (long i = 0; i < pairs; i++)
        printf("%lld %lld\n", ns[2 * i], ns[2 * i + 1]);
    print_registry((pairs + WARMUP) * shim_arms, (pairs + WARMUP) * floor_arms);
    free(ns);
    return 0;
}
