/* See botrun.h. */
#include "botrun.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "browser.h"
#include "procfs.h"
#include "registry.h"
#include "support.h"

/* Upper bounds so that a broken build fails a test instead of hanging it;
 * no assertion is about how long anything took. */
#define READY_BOUND_SEC 120.0
#define END_BOUND_SEC 120.0
#define CLEAN_BOUND_SEC 15.0
#define MAX_PIDS 512

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void br_setup(struct botrun *b, const char *tag)
{
    memset(b, 0, sizeof *b);
    b->top = b->bot = b->browser = -1;
    /* what the bot leaks, double-forked crashpad handlers included, stays
     * below the test, where br_browser_procs counts it */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    ts_tmpdir(b->outdir, sizeof b->outdir, tag);
    snprintf(b->tmpdir, sizeof b->tmpdir, "%s/tmp", b->outdir);
    cr_assert_eq(mkdir(b->tmpdir, 0700), 0);
    snprintf(b->ready, sizeof b->ready, "%s/ready", b->outdir);
    snprintf(b->waitfile, sizeof b->waitfile, "%s/go-on", b->outdir);
    snprintf(b->out, sizeof b->out, "%s/bot.out", b->outdir);
    snprintf(b->err, sizeof b->err, "%s/bot.err", b->outdir);
    snprintf(b->run_session, sizeof b->run_session, "crtest-%s-%d", tag, (int)getpid());
}

static void reap_session(const char *session)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", (char *)session, "--grace", "0", NULL};
    ts_run(argv, NULL);
    ts_kill_session(session);
}

void br_teardown(struct botrun *b)
{
    if (b->top > 0)
        ts_kill(b->top, SIGKILL);
    if (b->bot > 0)
        ts_kill(b->bot, SIGKILL);
    if (b->top > 0)
        ts_waitpid(b->top, 10);
    if (b->mode == BR_RUN)
        reap_session(b->run_session);
    for (int i = 0; i < b->nsessions; i++)
        reap_session(b->sessions[i]);
    /* a failed test: whatever is still below us goes */
    pid_t left[MAX_PIDS];
    int n = ts_descendants(getpid(), left, MAX_PIDS);
    for (int i = 0; i < n; i++)
        ts_kill(left[i], SIGKILL);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    ts_rm_rf(b->outdir);
}

void br_start(struct botrun *b, enum br_mode mode, char *const argv[])
{
    char *full[32];
    int n = 0;
    b->mode = mode;
    if (mode == BR_RUN) {
        full[n++] = (char *)ts_build("chromereaper");
        full[n++] = "run";
        full[n++] = "--session";
        full[n++] = b->run_session;
        full[n++] = "--";
    }
    for (int i = 0; argv[i] && n < 31; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    setenv("TMPDIR", b->tmpdir, 1);
    if (mode == BR_PRELOAD)
        setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    pid_t pid = ts_spawn_split(full, NULL, b->out, b->err);
    unsetenv("TMPDIR");
    unsetenv("LD_PRELOAD");
    b->top = pid;
    if (mode == BR_PRELOAD)
        b->bot = pid;
}

static void fail_with_output(const struct botrun *b, const char *what)
{
    char *out = ts_slurp(b->out), *err = ts_slurp(b->err);
    cr_assert_fail("%s\n--- stdout:\n%s\n--- stderr:\n%s", what, out ? out : "", err ? err : "");
}

pid_t br_wait_ready(struct botrun *b)
{
    double end = now_sec() + READY_BOUND_SEC;
    struct stat st;
    while (stat(b->ready, &st) != 0 || st.st_size == 0) {
        if (!ts_alive(b->top) || now_sec() > end)
            fail_with_output(b, "the bot never got ready");
        usleep(20000);
    }
    pid_t pid;
    cr_assert_geq(ts_read_pids(b->ready, &pid, 1), 1);
    b->bot = pid;
    return pid;
}

void br_note_session_of(struct botrun *b, pid_t root)
{
    cr_assert_lt(b->nsessions, BR_MAX_SESSIONS);
    char *id = b->sessions[b->nsessions];
    /* a bot just started may not have run the library's constructor yet */
    double end = now_sec() + READY_BOUND_SEC;
    while ((tb_session_of_root(root, id, 64) != 0 || ts_watchdog_pid(id) < 0) && now_sec() < end)
        usleep(50000);
    cr_assert_eq(tb_session_of_root(root, id, 64), 0, "no session has pid %d as its root", (int)root);
    cr_assert_gt(ts_watchdog_pid(id), 0, "no watchdog for session %s", id);
    b->nsessions++;
}

static int is_chromium(pid_t pid)
{
    char exe[256] = "";
    proc_exe_read(pid, exe, sizeof exe);
    return strcmp(exe, "/usr/lib/chromium/chromium") == 0;
}

pid_t br_find_browser(struct botrun *b)
{
    double end = now_sec() + READY_BOUND_SEC;
    do {
        pid_t kids[MAX_PIDS];
        int n = ts_descendants(b->bot, kids, MAX_PIDS);
        for (int i = 0; i < n; i++) {
            struct proc_stat st;
            if (proc_stat_read(kids[i], &st) == 0 && st.ppid == b->bot && is_chromium(kids[i]))
                return b->browser = kids[i];
        }
        usleep(20000);
    } while (now_sec() < end);
    fail_with_output(b, "the bot has no chromium child");
    return -1;
}

int br_wait_end(struct botrun *b)
{
    int st = ts_waitpid(b->top, END_BOUND_SEC);
    if (st == -1)
        fail_with_output(b, "the bot (or run) did not end");
    b->top = -1;
    if (b->mode == BR_PRELOAD)
        b->bot = -1;
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

int br_browser_procs(void)
{
    return tb_count_browser_procs(NULL);
}

static int count_entries(const char *dir, int log)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            if (log)
                cr_log_warn("left in TMPDIR: %s", e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

int br_tmp_entries(const struct botrun *b)
{
    return count_entries(b->tmpdir, 1);
}

/* Sessions noted that still have a registry or a watchdog. */
static int sessions_left(const struct botrun *b)
{
    int n = 0;
    for (int i = -1; i < b->nsessions; i++) {
        const char *id = i < 0 ? (b->mode == BR_RUN ? b->run_session : NULL) : b->sessions[i];
        char path[128];
        struct stat st;
        if (!id || registry_path(path, sizeof path, (uint32_t)getuid(), id) < 0)
            continue;
        n += stat(path, &st) == 0 || ts_watchdog_pid(id) > 0;
    }
    return n;
}

static void log_browser_procs(void)
{
    pid_t pids[MAX_PIDS];
    int n = ts_descendants(getpid(), pids, MAX_PIDS);
    for (int i = 0; i < n; i++) {
        char cmd[200];
        size_t len;
        if (proc_file_read(pids[i], "cmdline", cmd, sizeof cmd, &len) == 0)
            cr_log_warn("still below the test: %d %s", (int)pids[i], cmd);
    }
}

void br_expect_clean(struct botrun *b, const char *how)
{
    /* `run` reaps before it exits: nothing to wait for once it has */
    int ended = b->top < 0, wait = !(ended && b->mode == BR_RUN);
    double t0 = now_sec();
    int procs, sessions;
    for (;;) {
        procs = br_browser_procs();
        sessions = ended ? sessions_left(b) : 0;
        int entries = count_entries(b->tmpdir, 0);
        if ((procs == 0 && sessions == 0 && entries == 0) || !wait || now_sec() - t0 > CLEAN_BOUND_SEC)
            break;
        usleep(20000);
    }
    if (procs)
        log_browser_procs();
    cr_log_info("%s: clean checked %.2f s after the end", how, now_sec() - t0);
    cr_expect_eq(procs, 0, "%s: %d browser processes left", how, procs);
    cr_expect_eq(sessions, 0, "%s: %d sessions still have a registry or a watchdog", how, sessions);
    cr_expect_eq(br_tmp_entries(b), 0, "%s: temporary directories left in TMPDIR", how);
}

void br_expect_output(const struct botrun *b, const char *expected, const char *in_err)
{
    char *out = ts_slurp(b->out), *err = ts_slurp(b->err);
    cr_assert_not_null(out);
    cr_assert_not_null(err);
    cr_expect_str_eq(out, expected, "the bot's stdout changed; stderr:\n%s", err);
    if (in_err)
        cr_expect(strstr(err, in_err) != NULL, "no \"%s\" in the bot's stderr:\n%s", in_err, err);
    if (b->mode == BR_PRELOAD)
        cr_expect(strstr(err, "chromereaper") == NULL, "the library wrote to the bot's stderr:\n%s", err);
    free(out);
    free(err);
}
