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
 * pause()ing, SIGKILLed when its parent dies, h1 carrying the session's
 * cookie) stand in for a browser stack, and two bystanders (double-forked
 * away, one without a cookie, one with another session's) for the user's
 * own processes; all six run this binary through a hard link named
 * "chromium", so each is a browser by its executable.  Pids
 * FUZZ_PID_BASE+k in the input name them, so every record can forge a
 * claim about a real stranger.  Oracles beyond the sanitizers: every
 * record session_load accepted is plausible; the plan names only the
 * session's four helpers (the harness is the reaper, they descend from
 * it), never a bystander or anything else; and it plans no deletion of
 * /tmp/crfuzz-victim (a directory made before any session, with a file in
 * it; fuzz/registry.dict gives libFuzzer its path) or below it.
 *
 * `make fuzz` runs it, as root, in a PID namespace of its own (unshare):
 * the plan builder reads all of /proc for each input, and there /proc holds
 * the harness and its helpers only.  FUZZ_DEBUG=1 prints what each input
 * loaded and planned. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* The helpers run this binary again through a hard link named "chromium"
 * (the reaper classifies by the executable's name), told what to be by
 * CRFUZZ_HELPER; they report "k pid" through the pipe CRFUZZ_FD. */
#define SESSION_HELPERS 4 /* 0..3: a chain under the harness; 4, 5: bystanders */
static char exe_dir[64], exe_link[128];
static const char victim[] = "/tmp/crfuzz-victim"; /* made before any session */

static void report_ready(int fd, int k)
{
    int rec[2] = {k, (int)getpid()};
    if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec)
        _exit(1);
}

static void __attribute__((noreturn)) exec_helper(int k, int fd, const char *cookie)
{
    char role[16], fdnum[16];
    snprintf(role, sizeof role, "%d", k);
    snprintf(fdnum, sizeof fdnum, "%d", fd);
    setenv("CRFUZZ_HELPER", role, 1);
    setenv("CRFUZZ_FD", fdnum, 1);
    setenv("CRFUZZ_EXE", exe_link, 1);
    if (cookie)
        setenv("CHROMEREAPER_SESSION", cookie, 1);
    else
        unsetenv("CHROMEREAPER_SESSION");
    char *argv[] = {"chromium", "--crfuzz-helper", NULL};
    execv(exe_link, argv);
    _exit(127);
}

/* Helper k < 4 starts helper k+1 (helper 1 carries the session's cookie,
 * the others are the session's by descent from the harness); bystanders
 * (4: no cookie, 5: another session's) are double-forked away from the
 * harness, so that nothing ties them to the session.  Each waits for
 * SIGKILL, which comes when its parent (the harness, for bystanders once
 * they are adopted by it as the namespace's init) dies. */
static void __attribute__((noreturn)) run_helper(int k)
{
    int fd = atoi(getenv("CRFUZZ_FD") ? getenv("CRFUZZ_FD") : "-1");
    snprintf(exe_link, sizeof exe_link, "%s", getenv("CRFUZZ_EXE") ? getenv("CRFUZZ_EXE") : "");
    pid_t first_parent = getppid();
    if (k < SESSION_HELPERS) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != first_parent)
            _exit(0);
    }
    report_ready(fd, k);
    if (k + 1 < SESSION_HELPERS) {
        pid_t c = fork();
        if (c == 0)
            exec_helper(k + 1, fd, k + 1 == 1 ? getenv("CRFUZZ_SESSION") : NULL);
        if (c < 0)
            _exit(1);
    }
    close(fd);
    if (k >= SESSION_HELPERS) { /* adopted once its middle process is gone */
        while (getppid() == first_parent)
            usleep(1000);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
    for (;;)
        pause();
}

static void remove_exe_link(void)
{
    unlink(exe_link);
    rmdir(exe_dir);
}

static void start_helpers(void)
{
    snprintf(exe_dir, sizeof exe_dir, "/tmp/crfuzz-exe.XXXXXX");
    check(mkdtemp(exe_dir) != NULL, "mkdtemp");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    check(n > 0, "readlink /proc/self/exe");
    self[n] = '\0';
    snprintf(exe_link, sizeof exe_link, "%s/chromium", exe_dir);
    check(link(self, exe_link) == 0, "a hard link of the harness named chromium (same filesystem as /tmp)");
    atexit(remove_exe_link);
    if (mkdir(victim, 0700) == 0 || errno == EEXIST) {
        int fd = open("/tmp/crfuzz-victim/thesis.tex", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    int ready[2];
    check(pipe(ready) == 0, "pipe");
    setenv("CRFUZZ_SESSION", session_id, 1);
    pid_t c = fork();
    check(c >= 0, "fork");
    if (c == 0) {
        close(ready[0]);
        exec_helper(0, ready[1], NULL);
    }
    for (int k = SESSION_HELPERS; k < FUZZ_HELPERS; k++) {
        pid_t middle = fork();
        check(middle >= 0, "fork");
        if (middle == 0) {
            close(ready[0]);
            if (fork() == 0)
                exec_helper(k, ready[1], k == SESSION_HELPERS + 1 ? "crfuzz-another-session" : NULL);
            _exit(0);
        }
        waitpid(middle, NULL, 0);
    }
    close(ready[1]);
    for (int got = 0; got < FUZZ_HELPERS; got++) {
        int rec[2];
        check(read(ready[0], rec, sizeof rec) == (ssize_t)sizeof rec && rec[0] >= 0 && rec[0] < FUZZ_HELPERS,
              "helpers started");
        helpers.pid[rec[0]] = rec[1];
    }
    close(ready[0]);
    for (int k = 0; k < FUZZ_HELPERS; k++) {
        struct proc_stat st;
        check(helpers.pid[k] > 0 && proc_stat_read(helpers.pid[k], &st) == 0, "helper is up");
        helpers.start[k] = st.start_time;
    }
    helpers.n = FUZZ_HELPERS;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (getenv("CRFUZZ_HELPER"))
        run_helper(atoi(getenv("CRFUZZ_HELPER")));
    uid = (uint32_t)getuid();
    snprintf(session_id, sizeof session_id, FUZZ_SESSION_PREFIX "%d", (int)getpid());
    check(registry_path(path, sizeof path, uid, session_id) == 0, "registry path");
    sweep();
    atexit(remove_file);
    setenv("CHROMEREAPER_LOG", "error", 1);
    start_helpers();
    return 0;
}

/* 0..3 for the session's helpers, 4..5 for the bystanders, -1 else. */
static int helper_index(pid_t pid)
{
    for (int k = 0; k < helpers.n; k++)
        if (helpers.pid[k] == pid)
            return k;
    return -1;
}

/* path is the victim directory, below it, or the harness's own link. */
static int outside_the_session(const char *path)
{
    size_t n = strlen(victim);
    return (strncmp(path, victim, n) == 0 && (path[n] == '\0' || path[n] == '/')) ||
           strncmp(path, exe_dir, strlen(exe_dir)) == 0;
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
    {
        fprintf(stderr, "fuzz_registry: plan for %s: %zu processes, %zu directories\n",
                round ? "a round" : "the session", r.ntargets, r.ndirs);
        for (size_t i = 0; i < r.ntargets; i++)
            fprintf(stderr, "fuzz_registry:   pid %d (helper %d) %s by %s\n", (int)r.targets[i].pid,
                    helper_index(r.targets[i].pid), role_name(r.targets[i].role), found_by_name(r.targets[i].found_by));
        for (size_t i = 0; i < r.ndirs; i++)
            fprintf(stderr, "fuzz_registry:   dir %s %s: %s\n", r.dirs[i].path, dir_action_name(r.dirs[i].action),
                    r.dirs[i].why);
    }
    /* whatever the records say: only the session's processes (the helpers
     * under the harness), never a bystander or anything else in /proc */
    for (size_t i = 0; i < r.ntargets; i++) {
        check(r.targets[i].outcome == OUTCOME_PLANNED, "dry run signalled");
        int k = helper_index(r.targets[i].pid);
        check(k >= 0 && k < SESSION_HELPERS, "plan names a process that is not the session's");
    }
    for (size_t i = 0; i < r.ndirs; i++) {
        check(r.dirs[i].action != DIR_REMOVED && r.dirs[i].action != DIR_FAILED,
              "dry run removed a directory");
        check(r.dirs[i].action != DIR_PLANNED || !outside_the_session(r.dirs[i].path),
              "plan deletes a directory the session did not make");
    }
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
