/* Preload-only mode: the Selenium bot started with LD_PRELOAD= alone, no
 * wrapper.  Its watchdog must leave nothing of the session once the bot dies,
 * whether by SIGKILL, SIGTERM, or an exception that skips driver.quit(). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "browser.h"
#include "procfs.h"
#include "registry.h"
#include "safestr.h"
#include "support.h"

#define MAX_PIDS 256
/* An upper bound so a broken watchdog fails the test instead of hanging
 * it; the measured time is printed, and `make bench` (B7) is where the
 * speed is judged. */
#define CLEAN_BOUND_SEC 15.0

static char outdir[256], tmpdir[300], report[300], session[64];
static pid_t bot = -1;
static pid_t session_pids[MAX_PIDS];
static int nsession;
static struct tb_bystander bystander;
static struct tb_dirset before;
static int baseline;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "preload");
    session[0] = '\0';
    tb_bystander_start(&bystander, outdir);
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", outdir);
    cr_assert_eq(mkdir(tmpdir, 0700), 0);
    tb_chrome_dirs(&before, tmpdir);
    baseline = tb_count_browser_procs(&bystander);
}

static void teardown(void)
{
    if (session[0]) {
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        ts_kill_session(session);
    }
    for (int i = 0; i < nsession; i++)
        ts_kill(session_pids[i], SIGKILL);
    if (bot > 0) {
        ts_kill(bot, SIGKILL);
        ts_waitpid(bot, 10);
    }
    tb_bystander_stop(&bystander);
    tb_dirset_free(&before);
    ts_rm_rf(outdir);
}

TestSuite(preload, .init = setup, .fini = teardown, .timeout = 300);

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Everything the session had is gone: its processes, its registry, the
 * watchdog, and Chrome's temp directories.  What is left goes into `why`,
 * so that a failure says which part did not go. */
static int session_clean(char *why, size_t size)
{
    for (int i = 0; i < nsession; i++)
        if (ts_alive(session_pids[i])) {
            char cmd[120] = "";
            size_t len;
            if (proc_file_read(session_pids[i], "cmdline", cmd, sizeof cmd, &len) != 0)
                cmd[0] = '\0';
            snprintf(why, size, "pid %d (%s) is alive", (int)session_pids[i], cmd);
            return 0;
        }
    char path[128];
    struct stat st;
    if (registry_path(path, sizeof path, (uint32_t)getuid(), session) < 0 || stat(path, &st) == 0) {
        snprintf(why, size, "the registry %s is still there", path);
        return 0;
    }
    struct tb_dirset now;
    tb_chrome_dirs(&now, tmpdir);
    int fresh = tb_dirset_new(&before, &now, NULL);
    tb_dirset_free(&now);
    if (fresh != 0) {
        snprintf(why, size, "%d new Chrome temp directories in %s", fresh, tmpdir);
        return 0;
    }
    pid_t watchdog = ts_watchdog_pid(session);
    if (watchdog > 0) {
        snprintf(why, size, "the watchdog (pid %d) is alive", (int)watchdog);
        return 0;
    }
    return 1;
}

/* Starts the bot under LD_PRELOAD alone and waits for its first page. */
static void start_bot(const char *crash_after)
{
    char ready[300], log[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(log, sizeof log, "%s/bot.log", outdir);
    char *argv[] = {"/usr/bin/python3", (char *)ts_source("examples/selenium_bot.py"), "--loops",
                    "100000", "--interval", "0.2", "--ready-file", ready,
                    crash_after ? "--crash-after" : NULL, (char *)crash_after, NULL};
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    setenv("TMPDIR", tmpdir, 1);
    /* the watchdog's report: what a failure below prints */
    snprintf(report, sizeof report, "%s/report.json", outdir);
    setenv("CHROMEREAPER_REPORT", report, 1);
    bot = ts_spawn(argv, NULL, log);
    unsetenv("LD_PRELOAD");
    unsetenv("TMPDIR");
    unsetenv("CHROMEREAPER_REPORT");
    if (ts_wait_file(ready, 120) != 0) {
        char *text = ts_slurp(log);
        cr_assert_fail("the bot never read its first page: %s", text ? text : "");
    }
    cr_assert_eq(tb_session_of_root(bot, session, sizeof session), 0,
                 "no session has the bot (pid %d) as its root", (int)bot);
    nsession = tb_session_live_pids(session, session_pids, MAX_PIDS);
    cr_assert_geq(nsession, 8, "the session shows only %d live processes", nsession);
    cr_assert_gt(ts_watchdog_pid(session), 0, "no watchdog for session %s", session);
}

static void expect_clean_after_death(const char *how)
{
    int st = ts_waitpid(bot, 120);
    cr_assert_neq(st, -1, "the bot did not end");
    bot = -1;
    double t0 = now_sec(), elapsed;
    char why[400] = "";
    while (!session_clean(why, sizeof why) && now_sec() - t0 < CLEAN_BOUND_SEC)
        usleep(20000);
    elapsed = now_sec() - t0;
    if (!session_clean(why, sizeof why)) {
        char *text = ts_slurp(report);
        cr_log_error("the watchdog's report: %s", text ? text : "(none)");
        free(text);
        struct tb_dirset now;
        tb_chrome_dirs(&now, tmpdir);
        tb_dirset_new(&before, &now, "left behind");
        tb_dirset_free(&now);
    }
    cr_assert(session_clean(why, sizeof why), "%s: session %s not clean %.1f s after the bot died: %s", how,
              session, elapsed, why);
    cr_log_info("preload %s: clean %.2f s after the bot died (%d processes)", how, elapsed, nsession);
    cr_assert(tb_bystander_alive(&bystander), "the bystander chromium was killed");
    int left = tb_count_browser_procs(&bystander);
    if (left != baseline) {
        pid_t pids[256];
        int n = ts_descendants(getpid(), pids, 256);
        for (int i = 0; i < n; i++) {
            char cmd[200];
            size_t len;
            if (proc_file_read(pids[i], "cmdline", cmd, sizeof cmd, &len) == 0)
                cr_log_warn("still below the test: %d %s", (int)pids[i], cmd);
        }
    }
    cr_assert_eq(left, baseline, "%d browser processes, %d before the bot started", left, baseline);
    session[0] = '\0';
}

Test(preload, sigkill_of_the_bot)
{
    start_bot(NULL);
    cr_assert_eq(ts_kill(bot, SIGKILL), 0);
    expect_clean_after_death("SIGKILL");
}

Test(preload, sigterm_of_the_bot)
{
    start_bot(NULL);
    cr_assert_eq(ts_kill(bot, SIGTERM), 0);
    expect_clean_after_death("SIGTERM");
}

Test(preload, exception_that_skips_quit)
{
    start_bot("3");
    expect_clean_after_death("exception");
}
