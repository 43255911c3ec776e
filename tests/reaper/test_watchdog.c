/* The preload mode's watchdog: started by the session's root, it must hold
 * none of the bot's file descriptors, survive a kill of the bot's process
 * group, reap everything when the root dies, and then exit. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
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

#define MAX_PIDS 16
#define BOUND_SEC 15.0

static char outdir[256], session[64];
static pid_t bot = -1;
static pid_t pids[MAX_PIDS];
static int npids;
static char made_dir[512];

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "watchdog");
    session[0] = made_dir[0] = '\0';
    npids = 0;
}

static void teardown(void)
{
    ts_cleanup_fixture(session, pids, npids, bot, made_dir);
    ts_rm_rf(outdir);
}

TestSuite(watchdog, .init = setup, .fini = teardown, .timeout = 120);

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A shell (the root: not a browser) runs the fixture browser and waits. */
static void start_bot(const char *stdout_path)
{
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), outdir);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    bot = ts_spawn(argv, NULL, stdout_path);
    unsetenv("LD_PRELOAD");
    npids = ts_fixture_ready(outdir, pids, MAX_PIDS, made_dir, sizeof made_dir);
    cr_assert_eq(npids, 5);
    cr_assert_eq(tb_session_of_root(bot, session, sizeof session), 0, "no session for the shell");
}

static int all_gone(pid_t watchdog)
{
    return ts_fixture_gone(session, pids, npids, made_dir) && !ts_alive(watchdog);
}

Test(watchdog, survives_a_process_group_kill_and_reaps_everything)
{
    start_bot(NULL);
    pid_t w = ts_wait_watchdog(session, 10);
    cr_assert_gt(w, 0, "no watchdog");
    cr_assert_neq(getpgid(w), getpgid(bot), "the watchdog is in the bot's process group");
    /* the bot, the fixture browser and its helpers all share this group */
    cr_assert_eq(kill(-bot, SIGKILL), 0);
    ts_waitpid(bot, 10);
    bot = -1;
    double t0 = now_sec();
    while (!all_gone(w) && now_sec() - t0 < BOUND_SEC)
        usleep(20000);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived", pids[i]);
    struct stat st;
    cr_assert_neq(stat(made_dir, &st), 0, "%s was not removed", made_dir);
    cr_assert_not(ts_alive(w), "the watchdog did not exit after the reap");
    fprintf(stderr, "[watchdog] process group killed -> session clean after %.2f s\n", now_sec() - t0);
    session[0] = '\0';
}

Test(watchdog, holds_none_of_the_bots_file_descriptors)
{
    char out[300];
    snprintf(out, sizeof out, "%s/bot.out", outdir);
    start_bot(out);
    pid_t w = ts_wait_watchdog(session, 10);
    cr_assert_gt(w, 0, "no watchdog");
    struct stat bot_out;
    cr_assert_eq(stat(out, &bot_out), 0);
    char fddir[64];
    snprintf(fddir, sizeof fddir, "/proc/%d/fd", (int)w);
    DIR *d = opendir(fddir);
    cr_assert_not_null(d);
    struct dirent *de;
    int fds = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[400], target[400];
        snprintf(path, sizeof path, "%s/%s", fddir, de->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        struct stat st;
        if (stat(path, &st) == 0)
            cr_assert_not(st.st_dev == bot_out.st_dev && st.st_ino == bot_out.st_ino,
                          "fd %s of the watchdog is the bot's stdout", de->d_name);
        if (atoi(de->d_name) <= 2)
            cr_assert_str_eq(target, "/dev/null", "fd %s is %s", de->d_name, target);
        cr_assert_null(strstr(target, "/dev/pts"), "fd %s is a terminal: %s", de->d_name, target);
        fds++;
    }
    closedir(d);
    cr_assert_geq(fds, 3);
    char cwd[64], where[256];
    snprintf(cwd, sizeof cwd, "/proc/%d/cwd", (int)w);
    ssize_t n = readlink(cwd, where, sizeof where - 1);
    cr_assert_gt(n, 0);
    where[n] = '\0';
    cr_assert_str_eq(where, "/", "the watchdog keeps the bot's directory busy");
    /* it runs without the library and without the cookie */
    char entry[600];
    snprintf(entry, sizeof entry, "LD_PRELOAD=%s", ts_build("libchromereaper.so"));
    cr_assert_eq(proc_environ_has(w, entry), 0, "the watchdog has the library preloaded");
    snprintf(entry, sizeof entry, "CHROMEREAPER_SESSION=%s", session);
    cr_assert_eq(proc_environ_has(w, entry), 0, "the watchdog carries the session cookie");
}

Test(watchdog, can_be_turned_off)
{
    setenv("CHROMEREAPER_WATCHDOG", "0", 1);
    start_bot(NULL);
    unsetenv("CHROMEREAPER_WATCHDOG");
    cr_assert_lt(ts_watchdog_pid(session), 0, "a watchdog started although CHROMEREAPER_WATCHDOG=0");
}
