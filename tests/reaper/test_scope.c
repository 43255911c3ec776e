/* Never kill what is not ours: whatever a registry says, the reaper signals
 * only live processes that are provably the session's.  The dangerous
 * cases (pid 1, the reaper's own ancestry) are checked with --dry-run, which
 * runs the same plan builder and signals nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"
#include "role.h"
#include "support.h"
#include "../fixtures/fx_common.h"

#define MAX_KIDS 64

static char session[64], outdir[256];
static struct cr_registry reg;
static pid_t kids[MAX_KIDS];
static int nkids;

static void setup(void)
{
    ts_session_create(session, sizeof session, &reg);
    ts_tmpdir(outdir, sizeof outdir, "scope");
    nkids = 0;
}

static void teardown(void)
{
    if (reg.hdr)
        registry_close(&reg);
    for (int i = 0; i < nkids; i++) {
        ts_kill(kids[i], SIGKILL);
        ts_waitpid(kids[i], 10);
    }
    ts_kill_session(session);
    ts_rm_rf(outdir);
}

TestSuite(scope, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t start_of(pid_t pid)
{
    struct proc_stat st;
    cr_assert_eq(proc_stat_read(pid, &st), 0, "pid %d: %s", (int)pid, strerror(errno));
    return st.start_time;
}

static void record(pid_t pid, uint64_t start, enum cr_role role)
{
    struct cr_entry e;
    memset(&e, 0, sizeof e);
    e.pid = pid;
    e.ppid = 1;
    e.start_time = start;
    e.seen_by = CR_SEEN_CONSTRUCTOR;
    e.role = role;
    strcpy(e.exe, "/usr/lib/chromium/chromium");
    cr_assert_geq(registry_append(&reg, &e), 0);
}

/* A process named like a browser that ignores SIGTERM, outside any session. */
static pid_t bystander(void)
{
    char *argv[] = {(char *)ts_build("fixtures/fake_chromium"), "bystander", NULL};
    pid_t pid = ts_spawn(argv, NULL, NULL);
    kids[nkids++] = pid;
    /* it re-execs itself as "chromium": wait for that */
    for (int i = 0; i < 500; i++) {
        char comm[32];
        size_t len;
        if (proc_file_read(pid, "comm", comm, sizeof comm, &len) == 0 && strncmp(comm, "chromium", 8) == 0)
            break;
        usleep(10000);
    }
    return pid;
}

static char *reap(const char *extra, int *rc)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0.2",
                    "--json", (char *)extra, NULL};
    char *out = NULL;
    *rc = ts_run(argv, &out);
    return out;
}

static void expect_untouched(pid_t pid, const char *what)
{
    int rc;
    char *out = reap(NULL, &rc);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"processes\":[]"), "%s was planned: %s", what, out);
    usleep(100000);
    cr_assert(ts_alive(pid), "%s was killed", what);
    free(out);
}

Test(scope, a_wrong_start_time_is_never_signalled)
{
    pid_t b = bystander();
    record(b, start_of(b) + 1, CR_ROLE_BROWSER);
    expect_untouched(b, "a process whose start time does not match its record");
}

/* A tracked pid exits and the kernel hands the same pid to a newcomer: as
 * root, ns_last_pid makes that happen on demand. */
Test(scope, a_reused_pid_is_never_signalled)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to steer pid allocation (ns_last_pid)");
    pid_t first = bystander();
    record(first, start_of(first), CR_ROLE_BROWSER);
    ts_kill(first, SIGKILL);
    ts_waitpid(first, 10);
    nkids--;
    pid_t again = -1;
    for (int attempt = 0; attempt < 200 && again != first; attempt++) {
        int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        char num[32];
        int n = snprintf(num, sizeof num, "%d", (int)first - 1);
        /* another process may take the pid first: then retry */
        if (write(fd, num, (size_t)n) == n)
            again = bystander();
        close(fd);
        if (again != first && again > 0) {
            ts_kill(again, SIGKILL);
            ts_waitpid(again, 10);
            nkids--;
        }
    }
    cr_assert_eq(again, first, "could not get pid %d reused", (int)first);
    expect_untouched(again, "a newcomer with a recorded pid");
}

/* The same, within one clock tick: the newcomer's start time equals the
 * record's, so only the kernel's ties (descent, cookie) can tell them
 * apart.  Forced in a PID namespace of its own (tests/fixtures/pid_reuse.c). */
Test(scope, a_pid_reused_within_one_tick_is_never_signalled)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a PID namespace and ns_last_pid");
    char id[80];
    snprintf(id, sizeof id, "%s-reuse", session); /* the fixture makes its registry */
    char *argv[] = {"unshare", "--pid", "--fork", "--mount-proc", (char *)ts_build("fixtures/pid_reuse"),
                    (char *)ts_build("chromereaper"), id, (char *)ts_build("fixtures/fake_chromium"),
                    "bystander", NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    if (rc == 2)
        cr_skip_test("could not get a pid reused within one tick: %s", out);
    cr_assert_eq(rc, 0, "the newcomer was signalled (%d): %s", rc, out);
    free(out);
}

Test(scope, pid_1_and_the_reapers_ancestry_are_never_planned)
{
    record(1, start_of(1), CR_ROLE_BROWSER);
    record(getpid(), start_of(getpid()), CR_ROLE_BROWSER); /* the reaper's parent */
    record(getppid(), start_of(getppid()), CR_ROLE_DRIVER); /* its grandparent */
    int rc;
    char *out = reap("--dry-run", &rc);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"processes\":[]"), "planned pid 1 or an ancestor: %s", out);
    free(out);
}

Test(scope, another_uids_process_is_never_signalled)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to start a process as another uid");
    char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    (char *)ts_build("fixtures/fake_chromium"), "bystander", NULL};
    pid_t b = ts_spawn(argv, NULL, NULL);
    kids[nkids++] = b;
    uid_t uid = 0;
    for (int i = 0; i < 500 && uid != 65534; i++) {
        if (proc_uid_read(b, &uid) < 0)
            uid = 0;
        usleep(10000);
    }
    cr_assert_eq(uid, 65534u);
    record(b, start_of(b), CR_ROLE_BROWSER);
    expect_untouched(b, "another uid's process");
}

Test(scope, another_sessions_process_is_never_signalled)
{
    setenv("CHROMEREAPER_SESSION", "crtest-some-other-session", 1);
    pid_t b = bystander();
    unsetenv("CHROMEREAPER_SESSION");
    record(b, start_of(b), CR_ROLE_BROWSER);
    expect_untouched(b, "a process carrying another session's cookie");
}

Test(scope, a_bystander_older_than_the_session_is_never_signalled)
{
    pid_t b = bystander();
    /* the session's root starts after the bystander, in a later tick: in the
     * same tick nothing shows which came first, and the bystander, a child
     * of this process that maps the registry, is then tied by descent */
    fx_wait_past_tick(start_of(b));
    char *argv[] = {"/bin/sleep", "600", NULL};
    pid_t root = ts_spawn(argv, NULL, NULL);
    kids[nkids++] = root;
    cr_assert_gt(start_of(root), start_of(b), "the root did not start after the bystander");
    registry_set_root(&reg, root, start_of(root));
    record(b, start_of(b), CR_ROLE_BROWSER);
    expect_untouched(b, "a browser that predates the session");
}

/* A session process (any of them, a renderer too) can append any record:
 * one naming a same-uid browser that is not the session's — started after
 * the session's root, no cookie, not a descendant — gets it nothing. */
Test(scope, a_forged_record_of_an_untied_process_is_never_signalled)
{
    char *argv[] = {"/bin/sleep", "600", NULL};
    pid_t root = ts_spawn(argv, session, NULL);
    kids[nkids++] = root;
    registry_set_root(&reg, root, start_of(root));
    pid_t b = bystander();
    cr_assert_gt(start_of(b), start_of(root) - 1);
    record(b, start_of(b), CR_ROLE_BROWSER);
    /* the forger is done: this test process, the bystander's parent, holds
     * the registry mapped like a session process would, and a session
     * process's children are the session's */
    registry_close(&reg);
    expect_untouched(b, "a process only a forged record names");
}

Test(scope, an_unrecorded_chromium_is_never_signalled)
{
    pid_t b = bystander();
    /* the session has a real tree of its own */
    char *argv[] = {(char *)ts_build("fixtures/fake_chromium"), "browser", outdir, NULL};
    pid_t mine = ts_spawn(argv, session, NULL);
    kids[nkids++] = mine;
    char ready[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0);
    int rc;
    char *out = reap(NULL, &rc);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(ts_alive(b), "an unrecorded chromium was killed");
    cr_assert_not(ts_alive(mine), "the session's own browser survived: %s", out);
    char needle[32];
    snprintf(needle, sizeof needle, "\"pid\":%d,", (int)b);
    cr_assert_null(strstr(out, needle), "%s", out);
    free(out);
}

/* Two reapers on one session at once: each process is handled by one of
 * them, both exit 0, and the one that waited says the session was reaped. */
Test(scope, two_concurrent_reaps_handle_each_process_once)
{
    char *argv[] = {(char *)ts_build("fixtures/fake_chromium"), "browser", outdir, NULL};
    kids[nkids++] = ts_spawn(argv, session, NULL);
    char ready[300], pidfile[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0);
    pid_t pids[8];
    int n = ts_read_pids(pidfile, pids, 8);
    cr_assert_eq(n, 5);
    registry_close(&reg); /* the reap unlinks it */

    char out[2][300];
    pid_t r[2];
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "%s/reap%d.json", outdir, k);
        char *rargv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace",
                         "0.3", "--json", NULL};
        r[k] = ts_spawn(rargv, NULL, out[k]);
    }
    char *text[2];
    for (int k = 0; k < 2; k++) {
        int st = ts_waitpid(r[k], 60);
        text[k] = ts_slurp(out[k]);
        cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "reaper %d: %#x %s", k, st, text[k]);
    }
    for (int i = 0; i < n; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\"pid\":%d,", (int)pids[i]);
        int handled = (strstr(text[0], needle) != NULL) + (strstr(text[1], needle) != NULL);
        cr_assert_eq(handled, 1, "pid %d handled %d times:\n%s\n%s", (int)pids[i], handled, text[0], text[1]);
        cr_assert_not(ts_alive(pids[i]));
    }
    cr_assert(strstr(text[0], "\"already_reaped\":true") || strstr(text[1], "\"already_reaped\":true"),
              "neither reaper saw the other:\n%s\n%s", text[0], text[1]);
    free(text[0]);
    free(text[1]);
}

/* Seen from another PID namespace (a container, a bench's sandbox), the
 * registry's pids name other processes or none: the root looks dead, and a
 * reap would remove a live bot's directories.  It is refused instead. */
Test(scope, a_registry_of_another_pid_namespace_is_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a PID namespace");
    char dir[300];
    snprintf(dir, sizeof dir, "%s/profile", outdir);
    cr_assert_eq(mkdir(dir, 0700), 0);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    struct cr_dir d;
    memset(&d, 0, sizeof d);
    d.pid = getpid();
    d.origin = CR_DIR_MKDTEMP;
    d.dev = st.st_dev;
    d.ino = st.st_ino;
    snprintf(d.path, sizeof d.path, "%s", dir);
    cr_assert_geq(registry_append_dir(&reg, &d), 0);
    char *argv[] = {"unshare", "--pid", "--fork", "--mount-proc", (char *)ts_build("chromereaper"), "reap",
                    "--session", session, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "another PID namespace"), "%s", out);
    cr_assert_eq(stat(dir, &st), 0, "a reap from another PID namespace removed the directory");
    free(out);
}
