/* End to end with the real parts: Debian's chromium + chromedriver driven by
 * python3-selenium, under `chromereaper run`, the bot killed with SIGKILL
 * after its first page.  Afterwards nothing of the session lives, no Chrome
 * temp directory made during the test remains, and a chromium started
 * outside the tool before the test (the bystander) is still alive. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "safestr.h"
#include "support.h"

#define MAX_DIRS 256
#define MAX_PIDS 256

struct dirset {
    char *v[MAX_DIRS];
    int n;
};

static char outdir[256], bystander_udd[256], session[64], bystander_tag[64];
static pid_t bystander = -1, run_pid = -1;
static struct dirset before, bystander_dirs;

static void list_chrome_dirs(struct dirset *s)
{
    static const char *const patterns[] = {"/tmp/*org.chromium.Chromium*", "/tmp/.org.chromium.Chromium*"};
    s->n = 0;
    for (int p = 0; p < 2; p++) {
        glob_t g;
        if (glob(patterns[p], 0, NULL, &g) == 0)
            for (size_t i = 0; i < g.gl_pathc && s->n < MAX_DIRS; i++)
                s->v[s->n++] = strdup(g.gl_pathv[i]);
        globfree(&g);
    }
}

static int dirset_has(const struct dirset *s, const char *path)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i], path) == 0)
            return 1;
    return 0;
}

static void dirset_free(struct dirset *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

/* Every process that carries `entry` in its environment. */
static int pids_with_env(const char *entry, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL && n < max) {
        uint64_t pid;
        if (cr_parse_u64(de->d_name, &pid) == 0 && (pid_t)pid != getpid() && ts_alive((pid_t)pid) &&
            proc_environ_has((pid_t)pid, entry) == 1)
            out[n++] = (pid_t)pid;
    }
    if (d)
        closedir(d);
    return n;
}

static void start_bystander(void)
{
    struct dirset first;
    list_chrome_dirs(&first);
    ts_tmpdir(bystander_udd, sizeof bystander_udd, "bystander");
    char udd_arg[300];
    snprintf(udd_arg, sizeof udd_arg, "--user-data-dir=%s", bystander_udd);
    snprintf(bystander_tag, sizeof bystander_tag, "CRTEST_BYSTANDER=%d", (int)getpid());
    char *argv[] = {"/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--remote-debugging-port=0", udd_arg,
                    "about:blank", NULL};
    putenv(bystander_tag); /* inherited by every process of the bystander, crashpad too */
    char log[300];
    snprintf(log, sizeof log, "%s/bystander.log", outdir);
    bystander = ts_spawn(argv, NULL, log);
    unsetenv("CRTEST_BYSTANDER");
    char port[300];
    snprintf(port, sizeof port, "%s/DevToolsActivePort", bystander_udd);
    cr_assert_eq(ts_wait_file(port, 60), 0, "the bystander chromium did not start");
    list_chrome_dirs(&before);
    for (int i = 0; i < before.n; i++)
        if (!dirset_has(&first, before.v[i]))
            bystander_dirs.v[bystander_dirs.n++] = strdup(before.v[i]);
    dirset_free(&first);
}

static void setup(void)
{
    /* the bystander's orphans (crashpad) come back to us, not init, so the
     * teardown can reap them instead of leaving zombies behind */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    ts_tmpdir(outdir, sizeof outdir, "e2e");
    snprintf(session, sizeof session, "crtest-e2e-%d", (int)getpid());
    start_bystander();
}

static void teardown(void)
{
    if (run_pid > 0) {
        /* a failed test: the tool under test is the best cleaner, then force */
        pid_t left[MAX_PIDS];
        int nleft = ts_descendants(run_pid, left, MAX_PIDS);
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        kill(run_pid, SIGKILL);
        for (int i = 0; i < nleft; i++)
            kill(left[i], SIGKILL);
        ts_waitpid(run_pid, 10);
    }
    ts_kill_session(session);
    pid_t pids[MAX_PIDS];
    int n = pids_with_env(bystander_tag, pids, MAX_PIDS);
    for (int i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
    if (bystander > 0)
        ts_waitpid(bystander, 10);
    for (int i = 0; i < n; i++)
        ts_wait_gone(pids[i], 5);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    for (int i = 0; i < bystander_dirs.n; i++)
        ts_rm_rf(bystander_dirs.v[i]);
    dirset_free(&bystander_dirs);
    dirset_free(&before);
    ts_rm_rf(bystander_udd);
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
    run_pid = ts_spawn(argv, NULL, log);
    unsetenv("CHROMEREAPER_LOG");
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

    cr_assert_eq(kill(bot, SIGKILL), 0);
    int st = ts_waitpid(run_pid, 120);
    char *text = ts_slurp(log);
    cr_assert_neq(st, -1, "run did not finish after the bot died: %s", text);
    run_pid = -1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL, "run exited with %#x: %s", st, text);
    cr_assert(strstr(text, " 0 survived"), "%s", text);

    for (int i = 0; i < nsession; i++)
        cr_assert_not(ts_alive(session_pids[i]), "pid %d of the session is alive: %s", session_pids[i], text);
    cr_assert_eq(ts_count_cookie(session), 0);

    struct dirset after;
    list_chrome_dirs(&after);
    for (int i = 0; i < after.n; i++)
        cr_expect(dirset_has(&before, after.v[i]), "%s was made during the test and remains", after.v[i]);
    dirset_free(&after);

    cr_assert(ts_alive(bystander), "the bystander chromium was killed");
    free(text);
}
