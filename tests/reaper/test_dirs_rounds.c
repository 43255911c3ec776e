/* A directory path can come back in a later driver round: what an earlier
 * reap settled about it must not decide the later one. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"
#include "support.h"

static char session[64], outdir[256];
static struct cr_registry reg;

static void setup(void)
{
    ts_session_create(session, sizeof session, &reg);
    ts_tmpdir(outdir, sizeof outdir, "dirs-rounds");
    ts_after_birth_of(ts_registry_file((uint32_t)getuid(), session), outdir);
}

static void teardown(void)
{
    if (reg.hdr)
        registry_close(&reg);
    ts_session_remove(session);
    ts_rm_rf(outdir);
}

TestSuite(dirs_rounds, .init = setup, .fini = teardown, .timeout = 60);

static int64_t record_profile(const char *path, int absent)
{
    struct cr_dir d;
    memset(&d, 0, sizeof d);
    d.pid = getpid();
    d.origin = CR_DIR_USER_DATA_DIR;
    struct stat st;
    if (absent) {
        d.flags = CR_DIR_ABSENT_AT_LAUNCH;
    } else {
        cr_assert_eq(stat(path, &st), 0);
        d.dev = st.st_dev;
        d.ino = st.st_ino;
    }
    snprintf(d.path, sizeof d.path, "%s", path);
    int64_t slot = registry_append_dir(&reg, &d);
    cr_assert_geq(slot, 0);
    return slot;
}

/* Waits (bounded) until `ls --json` says exactly one round of the session
 * was reaped; returns 1 if it did, with the last listing in *text. */
static int wait_one_round_reaped(const char *id, char **text)
{
    char *argv_ls[] = {(char *)ts_build("chromereaper"), "ls", "--session", (char *)id, "--json", NULL};
    int reaped = 0;
    *text = NULL;
    for (int i = 0; i < 600 && !reaped; i++) {
        free(*text);
        *text = NULL;
        ts_run(argv_ls, text);
        reaped = *text && strstr(*text, "\"rounds_reaped\":1,") != NULL;
        if (!reaped)
            usleep(50000);
    }
    return reaped;
}

Test(dirs_rounds, a_profile_the_bot_made_after_an_earlier_round_is_kept)
{
    char profile[300];
    snprintf(profile, sizeof profile, "%s/profile", outdir);
    /* round 1: Chrome created the profile; that round was reaped, its
     * record settled */
    int64_t slot = record_profile(profile, 1);
    struct cr_dir out;
    cr_assert(registry_dir_read(&reg, (uint32_t)slot, &out));
    cr_assert(registry_dir_transition(&reg, (uint32_t)slot, out.seq, CR_SLOT_COMMITTED, CR_SLOT_REAPED));
    /* then the bot made the directory itself and launched round 2 with it */
    cr_assert_eq(mkdir(profile, 0700), 0);
    char keep[400];
    snprintf(keep, sizeof keep, "%s/Bookmarks", profile);
    FILE *f = fopen(keep, "w");
    cr_assert_not_null(f);
    fclose(f);
    record_profile(profile, 0);
    registry_close(&reg);

    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--json", NULL};
    char *text = NULL;
    int rc = ts_run(argv, &text);
    cr_assert_eq(rc, 0, "%s", text);
    struct stat st;
    cr_assert_eq(stat(keep, &st), 0, "the bot's own profile was deleted: %s", text);
    /* no browser was ever seen using it: the bot's */
    cr_assert(strstr(text, "never given to a browser"), "%s", text);
    free(text);
}

/* A round's reap that cannot remove the round's directory (here: a file
 * of another uid inside; likewise something writing into it) is final:
 * the round is reaped, its directory record settled, and the next tick
 * does not go at the directory again.  Today the round stays "exited" and
 * every rescan reaps it once more. */
Test(dirs_rounds, a_failed_removal_in_a_rounds_reap_is_final)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to put another uid's file in the directory");
    registry_close(&reg);
    ts_session_remove(session);
    char cmd[1200], ready[300], dirfile[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", outdir);
    /* the bot outlives its browser: a loop of short sleeps */
    snprintf(cmd, sizeof cmd, "%s browser %s & while :; do sleep 0.2; done", ts_build("fixtures/fake_chromium"),
             outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "0", "--",
                    "/bin/sh", "-c", cmd, NULL};
    char run_log[300];
    snprintf(run_log, sizeof run_log, "%s/run.log", outdir);
    pid_t run = ts_spawn(argv, NULL, run_log); /* its summary: not the suite's output */
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    char *dir = ts_slurp(dirfile);
    cr_assert_not_null(dir);
    char theirs[400];
    snprintf(theirs, sizeof theirs, "%s/theirs.txt", dir);
    FILE *f = fopen(theirs, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(chown(theirs, 65534, 65534), 0);
    pid_t pids[16];
    char pidfile[300];
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    int n = ts_read_pids(pidfile, pids, 16);
    cr_assert_geq(n, 1);
    cr_assert_eq(ts_kill(pids[0], SIGKILL), 0); /* the round's root, the browser */

    char *text = NULL;
    int reaped = wait_one_round_reaped(session, &text);
    cr_assert(reaped, "the round was never reaped (or more than once): %s",
              text && strstr(text, "\"directories\":") ? strstr(text, "\"directories\":") : text);
    /* the round is settled by its one reap */
    cr_assert(strstr(text, "\"state\":\"reaped\""), "the round is not settled: %s",
              strstr(text, "\"directories\":") ? strstr(text, "\"directories\":") : text);
    struct stat st;
    cr_assert_eq(stat(theirs, &st), 0, "another uid's file was removed");
    free(text);

    ts_kill(run, SIGTERM);
    ts_waitpid(run, 30);
    ts_rm_rf(dir);
    free(dir);
}

/* A round owns what its processes made after it began.  The bot made a
 * Playwright-style artifacts directory before it started its browser; a
 * record claiming the browser made it with mkdtemp (forged, as a renderer
 * could) does not get it removed when that round ends: the directory is
 * older than the round's root, which the supervisor saw alive.  It is the
 * session's, and goes when the session ends. */
Test(dirs_rounds, a_directory_older_than_the_round_is_not_the_rounds)
{
    registry_close(&reg);
    ts_session_remove(session);
    char cmd[1600], ready[300], botdir_file[300], pidfile[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(botdir_file, sizeof botdir_file, "%s/botdir", outdir);
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    snprintf(cmd, sizeof cmd,
             "d=$(mktemp -d %s/playwright-artifacts-XXXXXX) && echo x > $d/download.bin && echo $d > %s && "
             "%s browser %s & while :; do sleep 0.2; done",
             outdir, botdir_file, ts_build("fixtures/fake_chromium"), outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "0", "--",
                    "/bin/sh", "-c", cmd, NULL};
    char run_log[300];
    snprintf(run_log, sizeof run_log, "%s/run.log", outdir);
    pid_t run = ts_spawn(argv, NULL, run_log); /* its summary: not the suite's output */
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    char *botdir = ts_slurp(botdir_file);
    cr_assert_not_null(botdir);
    botdir[strcspn(botdir, "\n")] = '\0';
    pid_t pids[16];
    cr_assert_geq(ts_read_pids(pidfile, pids, 16), 1);
    pid_t browser = pids[0];

    /* the forged claim: the browser made the bot's directory */
    struct cr_registry live;
    cr_assert_eq(registry_open(&live, (uint32_t)getuid(), session, 1, NULL, 0), CR_REG_OK);
    struct proc_stat ps;
    cr_assert_eq(proc_stat_read(browser, &ps), 0);
    struct stat sb;
    cr_assert_eq(stat(botdir, &sb), 0);
    struct cr_dir d;
    memset(&d, 0, sizeof d);
    d.pid = browser;
    d.start_time = ps.start_time;
    d.origin = CR_DIR_MKDTEMP;
    d.dev = (uint64_t)sb.st_dev;
    d.ino = (uint64_t)sb.st_ino;
    snprintf(d.path, sizeof d.path, "%s", botdir);
    cr_assert_geq(registry_append_dir(&live, &d), 0);
    registry_close(&live);

    cr_assert_eq(ts_kill(browser, SIGKILL), 0); /* the round ends */
    char *text = NULL;
    int reaped = wait_one_round_reaped(session, &text);
    cr_assert(reaped, "the round was never reaped: %s", text);
    free(text);
    char keep[600];
    snprintf(keep, sizeof keep, "%s/download.bin", botdir);
    cr_assert_eq(stat(keep, &sb), 0, "the round's reap removed the bot's directory %s", botdir);

    ts_kill(run, SIGTERM);
    ts_waitpid(run, 30);
    cr_assert_neq(stat(botdir, &sb), 0, "the session's end left %s", botdir);
    free(botdir);
}
