/* A bot that runs for weeks: one bot process opens and ends a driver round
 * after round, ending each the way real bots do (quit, no quit, chromedriver
 * or Chrome killed).  After every round its leftovers must be reaped while
 * the bot keeps running: browser processes and Chrome temp directories back
 * to the baseline taken before the first round, the bot never touched. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "browser.h"
#include "support.h"

#define MAX_ROUNDS 64
/* Upper bound per round so a broken reaper fails instead of hanging; the
 * measured latencies are printed, and judged by `make bench`. */
#define ROUND_BOUND_SEC 10.0

static char outdir[256], tmpdir[300], session[64];
static pid_t bot = -1, run_pid = -1;
static struct tb_bystander bystander;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "soak");
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", outdir);
    cr_assert_eq(mkdir(tmpdir, 0700), 0);
    session[0] = '\0';
    tb_bystander_start(&bystander, outdir);
}

static void teardown(void)
{
    if (bot > 0 && !session[0])
        tb_session_of_root(bot, session, sizeof session);
    if (bot > 0)
        ts_kill(bot, SIGKILL);
    if (run_pid > 0)
        ts_waitpid(run_pid, 30);
    if (session[0]) {
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        ts_kill_session(session);
    }
    if (bot > 0)
        ts_waitpid(bot, 10);
    tb_bystander_stop(&bystander);
    ts_rm_rf(outdir);
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* What a round left, for the failure message: the directories, and what
 * the session's registry says of them and of its rounds. */
static void log_leftovers(pid_t bot_pid, const struct tb_dirset *before)
{
    struct tb_dirset now;
    tb_chrome_dirs(&now, tmpdir);
    tb_dirset_new(before, &now, "left behind");
    tb_dirset_free(&now);
    char id[64];
    if (tb_session_of_root(bot_pid, id, sizeof id) != 0)
        return;
    char *argv[] = {(char *)ts_build("chromereaper"), "ls", "--session", id, NULL};
    char *out = NULL;
    ts_run(argv, &out);
    cr_log_warn("chromereaper ls --session %s:\n%s", id, out ? out : "");
    free(out);
}

static int count_dirs(void)
{
    struct tb_dirset d;
    tb_chrome_dirs(&d, tmpdir);
    int n = d.n;
    tb_dirset_free(&d);
    return n;
}

/* Drives `rounds` rounds of a bot already started; `bot_pid` must never die
 * before the end. */
static void check_rounds(int rounds, pid_t bot_pid, const char *mode)
{
    int base_procs = tb_count_browser_procs(&bystander), base_dirs = count_dirs();
    struct tb_dirset base_set;
    tb_chrome_dirs(&base_set, tmpdir);
    double lat[MAX_ROUNDS];
    char actions[MAX_ROUNDS][16];
    fprintf(stderr, "[soak %s] baseline: %d browser processes, %d Chrome temp dirs\n", mode,
            base_procs, base_dirs);
    for (int i = 0; i < rounds; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/round-%d", outdir, i);
        cr_assert_eq(ts_wait_file(path, 120), 0, "round %d never ended", i);
        double t0 = now_sec();
        char *action = ts_slurp(path);
        snprintf(actions[i], sizeof actions[i], "%s", action ? strtok(action, "\n") : "?");
        free(action);
        int procs, dirs;
        while ((procs = tb_count_browser_procs(&bystander)) != base_procs ||
               (dirs = count_dirs()) != base_dirs) {
            if (now_sec() - t0 > ROUND_BOUND_SEC)
                break;
            usleep(10000);
        }
        procs = tb_count_browser_procs(&bystander);
        dirs = count_dirs();
        lat[i] = now_sec() - t0;
        fprintf(stderr, "[soak %s] round %2d %-12s -> %d browser processes, %d temp dirs, clean after %.2f s\n",
                mode, i + 1, actions[i], procs, dirs, lat[i]);
        if (procs != base_procs || dirs != base_dirs)
            log_leftovers(bot_pid, &base_set);
        cr_assert_eq(procs, base_procs, "round %d (%s): %d browser processes left", i + 1, actions[i], procs);
        cr_assert_eq(dirs, base_dirs, "round %d (%s): %d temp dirs left", i + 1, actions[i], dirs);
        cr_assert(ts_alive(bot_pid), "the bot itself died in round %d", i + 1);
        snprintf(path, sizeof path, "%s/ack-%d", outdir, i);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fclose(f);
    }
    tb_dirset_free(&base_set);
    qsort(lat, (size_t)rounds, sizeof *lat, cmp_double);
    fprintf(stderr, "[soak %s] %d rounds, driver round end -> clean: median %.2f s, max %.2f s\n", mode,
            rounds, lat[rounds / 2], lat[rounds - 1]);
    cr_assert(tb_bystander_alive(&bystander), "the bystander chromium was killed");
}

static char *soak_argv[16];

static void bot_argv(const char *rounds, const char *actions)
{
    static char seed[32], sync_arg[300];
    snprintf(seed, sizeof seed, "%d", (int)getpid());
    snprintf(sync_arg, sizeof sync_arg, "%s", outdir);
    int n = 0;
    soak_argv[n++] = "/usr/bin/python3";
    soak_argv[n++] = (char *)ts_source("tests/e2e/soak_bot.py");
    soak_argv[n++] = "--rounds";
    soak_argv[n++] = (char *)rounds;
    soak_argv[n++] = "--seed";
    soak_argv[n++] = seed;
    soak_argv[n++] = "--sync";
    soak_argv[n++] = sync_arg;
    if (actions) {
        soak_argv[n++] = "--actions";
        soak_argv[n++] = (char *)actions;
    }
    soak_argv[n] = NULL;
}

TestSuite(soak, .init = setup, .fini = teardown, .timeout = 600);

/* Preload-only mode: the watchdog reaps each round. */
Test(soak, thirty_random_rounds_under_ld_preload)
{
    char log[300];
    snprintf(log, sizeof log, "%s/bot.log", outdir);
    bot_argv("30", NULL);
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    setenv("TMPDIR", tmpdir, 1);
    bot = ts_spawn(soak_argv, NULL, log);
    unsetenv("LD_PRELOAD");
    unsetenv("TMPDIR");
    check_rounds(30, bot, "preload");
    int st = ts_waitpid(bot, 60);
    char *text = ts_slurp(log);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the bot failed: %s", text);
    free(text);
    bot = -1;
}

/* `run` mode: the supervisor reaps each round; every way of ending once. */
Test(soak, each_way_of_ending_a_round_under_run)
{
    char log[300];
    snprintf(log, sizeof log, "%s/run.log", outdir);
    bot_argv("4", "quit,noquit,kill-driver,kill-browser");
    snprintf(session, sizeof session, "crtest-soak-%d", (int)getpid());
    char *argv[24] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--"};
    for (int i = 0; soak_argv[i]; i++)
        argv[5 + i] = soak_argv[i];
    setenv("TMPDIR", tmpdir, 1);
    run_pid = ts_spawn(argv, NULL, log);
    unsetenv("TMPDIR");
    /* the bot is run's child: wait for it to appear */
    pid_t kids[4];
    int n = 0;
    for (int i = 0; i < 500 && n == 0; i++) {
        n = ts_descendants(run_pid, kids, 1);
        if (!n)
            usleep(10000);
    }
    cr_assert_eq(n, 1, "the bot did not start under run");
    check_rounds(4, kids[0], "run");
    int st = ts_waitpid(run_pid, 60);
    char *text = ts_slurp(log);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "run/bot failed (%#x): %s", st, text);
    free(text);
    run_pid = -1;
}
