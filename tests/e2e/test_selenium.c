/* End to end with the real parts: Debian's chromium + chromedriver driven by
 * python3-selenium, under `chromereaper run`, the bot killed with SIGKILL
 * after its first page.  Afterwards nothing of the session lives, no Chrome
 * temp directory made during the test remains, and a chromium started
 * outside the tool before the test (the bystander) is still alive. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "browser.h"
#include "procfs.h"
#include "support.h"

#define MAX_PIDS 256

static char outdir[256], tmpdir[300], session[64];
static pid_t run_pid = -1;
static struct tb_bystander bystander;
static struct tb_dirset before;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "e2e");
    snprintf(session, sizeof session, "crtest-e2e-%d", (int)getpid());
    tb_bystander_start(&bystander, outdir);
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", outdir);
    cr_assert_eq(mkdir(tmpdir, 0700), 0);
    tb_chrome_dirs(&before, tmpdir);
}

static void teardown(void)
{
    if (run_pid > 0) {
        /* a failed test: the tool under test is the best cleaner, then force */
        pid_t left[MAX_PIDS];
        int nleft = ts_descendants(run_pid, left, MAX_PIDS);
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        ts_kill(run_pid, SIGKILL);
        for (int i = 0; i < nleft; i++)
            ts_kill(left[i], SIGKILL);
        ts_waitpid(run_pid, 10);
    }
    ts_kill_session(session);
    tb_bystander_stop(&bystander);
    tb_dirset_free(&before);
    ts_rm_rf(outdir);
}

TestSuite(e2e, .init = setup, .fini = teardown, .timeout = 300);

Test(e2e, selenium_bot_killed_with_sigkill_leaves_nothing)
{
    char ready[300], log[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(log, sizeof log, "%s/run.log", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--",
                    "/usr/bin/python3", (char *)ts_source("examples/selenium_bot.py"),
                    "--loops", "100000", "--interval", "0.2", "--ready-file", ready, NULL};
    setenv("CHROMEREAPER_LOG", "info", 1);
    setenv("TMPDIR", tmpdir, 1);
    run_pid = ts_spawn(argv, NULL, log);
    unsetenv("CHROMEREAPER_LOG");
    unsetenv("TMPDIR");
    if (ts_wait_file(ready, 120) != 0) {
        char *text = ts_slurp(log);
        cr_assert_fail("the Selenium bot never read its first page: %s", text ? text : "");
    }
    pid_t bot;
    cr_assert_eq(ts_read_pids(ready, &bot, 1), 1);

    /* Chrome's setproctitle overwrites the environ area of most of its
     * processes, so the cookie alone does not find them: the session is
     * everything below `run` (a subreaper: crashpad is adopted by it). */
    pid_t session_pids[MAX_PIDS];
    int nsession = ts_descendants(run_pid, session_pids, MAX_PIDS);
    int browsers = 0;
    for (int i = 0; i < nsession; i++) {
        char exe[256];
        proc_exe_read(session_pids[i], exe, sizeof exe);
        browsers += strstr(exe, "/usr/lib/chromium/") != NULL;
    }
    /* chromium, its zygotes, renderers, gpu/utility and crashpad handlers */
    cr_assert_geq(browsers, 6, "only %d chromium processes in the session", browsers);

    /* what a zygote forked (renderers, gpu, utility) holds no writable
     * registry: a page cannot forge records through it */
    int zygote_children = 0;
    for (int i = 0; i < nsession; i++) {
        if (!tb_zygote_child(session_pids[i]))
            continue;
        zygote_children++;
        cr_expect_eq(tb_maps_registry_writable(session_pids[i]), 0,
                     "zygote child %d maps the registry writable", (int)session_pids[i]);
    }
    cr_expect_geq(zygote_children, 1, "no renderer in the session");

    cr_assert_eq(ts_kill(bot, SIGKILL), 0);
    int st = ts_waitpid(run_pid, 120);
    char *text = ts_slurp(log);
    cr_assert_neq(st, -1, "run did not finish after the bot died: %s", text);
    run_pid = -1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL, "run exited with %#x: %s", st, text);
    cr_assert(strstr(text, " 0 survived"), "%s", text);

    for (int i = 0; i < nsession; i++)
        cr_assert_not(ts_alive(session_pids[i]), "pid %d of the session is alive: %s", session_pids[i], text);
    cr_assert_eq(ts_count_cookie(session), 0);

    struct tb_dirset after;
    tb_chrome_dirs(&after, tmpdir);
    cr_expect_eq(tb_dirset_new(&before, &after, "e2e"), 0, "Chrome temp directories remain");
    tb_dirset_free(&after);

    cr_assert(tb_bystander_alive(&bystander), "the bystander chromium was killed");
    free(text);
}
