/* libFuzzer harness over what the reaper does with a registry before it
 * signals anything: registry_validate on the raw input, then the input as a
 * registry file of a private session (fuzz_image.h) through session_load
 * (open, validate, check and merge every record), rounds_build, and the
 * plan builder: reap_session in dry-run mode, for the whole session and for
 * its first rounds.
 *
 * Dry run has no side effects: it never calls kill_processes (no signal is
 * sent), handle_dir only stats (rmtree_stat), and neither the registry
 * marks (mark_reaped) nor its unlink happen.  The session is loaded
 * read-only, without the reapers' lock.  The registry file exists only
 * while session_load opens it (/dev/shm/chromereaper-<uid>-crfuzz-<pid>);
 * files of dead harness processes are swept at start.
 *
 * Four helper processes (a chain: harness -> h0 -> h1 -> h2 -> h3, each
 * pause()ing, SIGKILLed when its parent dies) stand in for a browser stack:
 * pids FUZZ_PID_BASE+k in the input name them.  Oracles beyond the
 * sanitizers: every record session_load accepted is plausible, and the plan
 * never names a process other than the helpers (nothing else in /proc is
 * the session's: not in the registry, no cookie, not a helper's child).
 *
 * `make fuzz` runs it, as root, in a PID namespace of its own (unshare):
 * the plan builder reads all of /proc for each input, and there /proc holds
 * the harness and its helpers only.  FUZZ_DEBUG=1 prints what each input
 * loaded and planned. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_image.h"
#include "procfs.h"
#include "reap.h"
#include "registry.h"
#include "role.h"
#include "rounds.h"
#include "safestr.h"
#include "session.h"

#define FUZZ_SESSION_PREFIX "crfuzz-"

static uint32_t uid;
static char session_id[CR_SESSION_MAX];
static char path[128];
static struct fuzz_helpers helpers;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_registry: invariant broken: %s\n", what);
        abort();
    }
}

/* Registry files of harness processes that are gone (killed by a crash). */
static void sweep(void)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, CR_REGISTRY_PREFIX "%u-" FUZZ_SESSION_PREFIX, uid);
    DIR *d = opendir(CR_REGISTRY_DIR);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        long pid = strtol(de->d_name + strlen(prefix), NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) < 0) {
            char p[300];
            snprintf(p, sizeof p, CR_REGISTRY_DIR "/%s", de->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
}

static void remove_file(void)
{
    unlink(path);
}

/* Helper k: records its pid, starts helper k+1 (the last one says it is
 * ready), and waits for SIGKILL, which comes when its parent dies. */
static void __attribute__((noreturn)) helper(int k, pid_t parent, pid_t *shared, int ready_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    shared[k] = getpid();
    if (k + 1 < FUZZ_HELPERS) {
        pid_t c = fork();
        if (c == 0)
            helper(k + 1, shared[k], shared, ready_fd);
        if (c < 0)
            _exit(1);
    } else {
        char one = 1;
        if (write(ready_fd, &one, 1) != 1)
            _exit(1);
    }
    for (;;)
        pause();
}

static void start_helpers(void)
{
    pid_t *shared = mmap(NULL, sizeof(pid_t) * FUZZ_HELPERS, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    check(shared != MAP_FAILED, "mmap");
    int ready[2];
    check(pipe(ready) == 0, "pipe");
    pid_t self = getpid(), c = fork();
    check(c >= 0, "fork");
    if (c == 0)
        helper(0, self, shared, ready[1]);
    char one;
    check(read(ready[0], &one, 1) == 1, "helpers started");
    close(ready[0]);
    close(ready[1]);
    for (int k = 0; k < FUZZ_HELPERS; k++) {
        struct proc_stat st;
        check(shared[k] > 0 && proc_stat_read(shared[k], &st) == 0, "helper is up");
        helpers.pid[k] = shared[k];
        helpers.start[k] = st.start_time;
    }
    helpers.n = FUZZ_HELPERS;
    munmap(shared, sizeof(pid_t) * FUZZ_HELPERS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uid = (uint32_t)getuid();
    snprintf(session_id, sizeof session_id, FUZZ_SESSION_PREFIX "%d", (int)getpid());
    check(registry_path(path, sizeof path, uid, session_id) == 0, "registry path");
    sweep();
    atexit(remove_file);
    setenv("CHROMEREAPER_LOG", "error", 1);
    start_helpers();
    return 0;
}

static int is_helper(pid_t pid)
{
    for (int k = 0; k < helpers.n; k++)
        if (helpers.pid[k] == pid)
            return 1;
    return 0;
}

/* A helper, a process the registry names (a hostile registry of the uid may
 * name any process of the uid: that is the design), or a live descendant
 * of one of those. */
static int plan_may_name(const struct session *s, pid_t pid)
{
    for (int hops = 0; pid > 0 && hops < 64; hops++) {
        if (is_helper(pid))
            return 1;
        struct tracked *t, *tmp;
        HASH_ITER(hh, s->procs, t, tmp) {
            if (t->key.pid == pid)
                return 1;
        }
        struct proc_stat st;
        if (proc_stat_read(pid, &st) < 0)
            return 1; /* gone meanwhile: cannot tell */
        pid = st.ppid;
    }
    return 0;
}

static int write_file(const unsigned char *img, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = fchmod(fd, 0600) == 0;
    for (size_t off = 0; ok && off < n;) {
        ssize_t w = write(fd, img + off, n - off);
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    close(fd);
    return ok ? 0 : -1;
}

static void plan(struct session *s, const struct round *round)
{
    struct reap_options ro = {.grace_sec = 0, .dry_run = 1, .spare_root = 1, .round = round};
    struct reap_result r;
    int rc = reap_session(s, &ro, &r);
    check(rc == 0 || rc == 1, "reap_session result");
    check(r.dry_run && !r.registry_unlinked, "dry run unlinked the registry");
    if (getenv("FUZZ_DEBUG"))
        fprintf(stderr, "fuzz_registry: plan for %s: %zu processes, %zu directories\n",
                round ? "a round" : "the session", r.ntargets, r.ndirs);
    for (size_t i = 0; i < r.ntargets; i++) {
        check(r.targets[i].outcome == OUTCOME_PLANNED, "dry run signalled");
        check(plan_may_name(s, r.targets[i].pid), "plan names a process that is not the session's");
    }
    for (size_t i = 0; i < r.ndirs; i++)
        check(r.dirs[i].action != DIR_REMOVED && r.dirs[i].action != DIR_FAILED,
              "dry run removed a directory");
    reap_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[160];
    /* the pure header check, on a buffer of exactly the input's size */
    registry_validate(data, size, uid, why, sizeof why);

    size_t n;
    unsigned char *img = fuzz_image(data, size, uid, session_id, &helpers, &n);
    check(img != NULL, "memory");
    int written = write_file(img, n) == 0;
    free(img);
    if (!written) {
        unlink(path);
        return 0;
    }
    struct session s;
    enum cr_registry_status st = session_load(&s, uid, session_id, 0, why, sizeof why);
    unlink(path);
    if (getenv("FUZZ_DEBUG"))
        fprintf(stderr, "fuzz_registry: %zu bytes: %s%s%s\n", size, registry_status_name(st),
                st == CR_REG_OK ? "" : ": ", st == CR_REG_OK ? "" : why);
    if (st != CR_REG_OK) {
        check(why[0] != '\0', "a refused registry says why");
        return 0;
    }
    struct tracked *t, *tmp;
    HASH_ITER(hh, s.procs, t, tmp) {
        check(t->key.pid > 0 && t->ppid >= 0 && t->role <= CR_ROLE_MAX, "implausible entry loaded");
        check(memchr(t->exe, '\0', sizeof t->exe) && memchr(t->profile_dir, '\0', sizeof t->profile_dir),
              "unterminated string loaded");
    }
    struct tracked_dir *d, *dtmp;
    HASH_ITER(hh, s.dirs, d, dtmp) {
        check(d->path[0] == '/' && memchr(d->path, '\0', sizeof d->path), "implausible directory loaded");
    }
    struct rounds rs;
    rounds_build(&rs, &s);
    for (size_t i = 0; i < rs.n; i++)
        for (size_t m = 0; m < rs.v[i].nmembers; m++)
            check(rs.v[i].members[m]->round_root == rs.v[i].root, "round member of another round");
    if (getenv("FUZZ_DEBUG"))
        fprintf(stderr, "fuzz_registry: %u processes, %u directories, %zu rounds\n",
                HASH_COUNT(s.procs), HASH_COUNT(s.dirs), rs.n);
    plan(&s, NULL);
    for (size_t i = 0; i < rs.n && i < 2; i++)
        plan(&s, &rs.v[i]);
    rounds_free(&rs);
    session_free(&s);
    return 0;
}
