/* A directory path can come back in a later driver round: what an earlier
 * reap settled about it must not decide the later one. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    pid_t run = ts_spawn(argv, NULL, NULL);
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

    char *argv_ls[] = {(char *)ts_build("chromereaper"), "ls", "--session", session, "--json", NULL};
    char *text = NULL;
    int reaped = 0;
    for (int i = 0; i < 600 && !reaped; i++) {
        free(text);
        text = NULL;
        ts_run(argv_ls, &text);
        reaped = text && strstr(text, "\"rounds_reaped\":1,") != NULL;
        if (!reaped)
            usleep(50000);
    }
    cr_assert(reaped, "the round was never reaped (or more than once): %s",
              text && strstr(text, "\"rounds\":") ? strstr(text, "\"rounds\":") : text);
    /* the round is settled by its one reap */
    cr_assert(strstr(text, "\"state\":\"reaped\""), "the round is not settled: %s", text);
    struct stat st;
    cr_assert_eq(stat(theirs, &st), 0, "another uid's file was removed");
    free(text);

    ts_kill(run, SIGTERM);
    ts_waitpid(run, 30);
    ts_rm_rf(dir);
    free(dir);
}
