/* Reused profiles (issue 9) and profiles a bot makes without mkdtemp
 * (issue 11), with real chromium: tests/e2e/reuse_bot.py reuses one /tmp
 * profile across sequential launches, each browser killed or closed, the
 * next started at once.  No round's reap may delete the profile the next
 * round's live browser uses (the bot checks, after each earlier round was
 * reaped, that its browser's DevToolsActivePort is still in the profile);
 * when the bot is gone the profile is the session's and is removed, whether
 * chromium created it or the bot made it with Python's tempfile.mkdtemp.
 * In preload mode (the watchdog) and under `run`. */
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

#include "procfs.h"
#include "support.h"

#define ROUNDS "4"
#define BOUND_SEC 30.0 /* only so that a broken reaper fails instead of hanging */

static char outdir[256], tmpdir[300];
static pid_t bot = -1;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "reuse");
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", outdir);
    cr_assert_eq(mkdir(tmpdir, 0700), 0);
    bot = -1;
}

static void teardown(void)
{
    if (bot > 0) {
        ts_kill(bot, SIGKILL);
        ts_waitpid(bot, 10);
    }
    ts_rm_rf(outdir);
}

TestSuite(reuse, .init = setup, .fini = teardown, .timeout = 400);

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Live processes whose command line mentions `text`. */
static int procs_mentioning(const char *text)
{
    DIR *d = opendir("/proc");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        char buf[8192];
        size_t len;
        if (*end || pid <= 0 || !ts_alive((pid_t)pid) ||
            proc_file_read((pid_t)pid, "cmdline", buf, sizeof buf, &len) < 0)
            continue;
        for (size_t i = 0; i + 1 < len; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        n += memmem(buf, len, text, strlen(text)) != NULL;
    }
    closedir(d);
    return n;
}

/* Runs the bot (under `run` when `supervised`, else with LD_PRELOAD alone)
 * to its end; every round must have found its profile intact, and once the
 * session is over the profile and every browser on it are gone. */
static void reuse(int supervised, const char *made_by, const char *ending)
{
    char log[300], profile_file[300];
    snprintf(log, sizeof log, "%s/bot.log", outdir);
    snprintf(profile_file, sizeof profile_file, "%s/profile", outdir);
    char *bot_argv[] = {"/usr/bin/python3", (char *)ts_source("tests/e2e/reuse_bot.py"),
                        (char *)ts_build("chromereaper"), ROUNDS, (char *)made_by, (char *)ending,
                        profile_file, NULL};
    char *run_argv[] = {(char *)ts_build("chromereaper"), "run", "--", "/usr/bin/python3",
                        (char *)ts_source("tests/e2e/reuse_bot.py"), (char *)ts_build("chromereaper"),
                        ROUNDS, (char *)made_by, (char *)ending, profile_file, NULL};
    setenv("TMPDIR", tmpdir, 1);
    if (!supervised)
        setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    bot = ts_spawn(supervised ? run_argv : bot_argv, NULL, log);
    unsetenv("LD_PRELOAD");
    unsetenv("TMPDIR");
    int st = ts_waitpid(bot, 360);
    bot = -1;
    char *text = ts_slurp(log);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the bot failed (status %#x): %s", st,
              text ? text : "");
    cr_assert(strstr(text, "round 3: profile intact\ndone\n"), "%s", text);
    free(text);

    char *profile = ts_slurp(profile_file);
    cr_assert_not_null(profile);
    profile[strcspn(profile, "\n")] = '\0';
    struct stat sb;
    double t0 = now_sec();
    while ((stat(profile, &sb) == 0 || procs_mentioning(profile) > 0) && now_sec() - t0 < BOUND_SEC)
        usleep(50000);
    cr_assert_eq(procs_mentioning(profile), 0, "browsers on %s outlived the session", profile);
    cr_assert_neq(stat(profile, &sb), 0, "the session's profile %s stayed after the bot ended", profile);
    free(profile);
}

Test(reuse, preload_a_profile_chromium_made_killed_each_round) { reuse(0, "chrome-made", "kill"); }
Test(reuse, preload_a_profile_the_bot_made_with_tempfile_closed_each_round) { reuse(0, "bot-made", "close"); }
Test(reuse, run_a_profile_chromium_made_closed_each_round) { reuse(1, "chrome-made", "close"); }
Test(reuse, run_a_profile_the_bot_made_with_tempfile_killed_each_round) { reuse(1, "bot-made", "kill"); }
