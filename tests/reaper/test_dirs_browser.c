/* End to end: the fixture browser (tests/fixtures/dirs_browser.c) runs
 * under the shim with a --user-data-dir, writes into it and makes its
 * mkdtemp singleton directory; the shim records both.  After a reap the
 * browser is gone, its mkdtemp directory removed, and the profile treated
 * by the rule (reaper/dirpolicy.h): one made before the session is
 * intact; one made during it, by the bot (as Python's tempfile.mkdtemp
 * does) or by the browser, is removed from /tmp and kept elsewhere. */
#include <signal.h>
#include <sys/wait.h>

#include "test_dirs.h"

#define MAX_PIDS 8

static char outdir[256];
static pid_t browser = -1;
static pid_t pids[MAX_PIDS];
static int npids;

static void br_setup(void)
{
    dt_setup();
    registry_close(&dt_reg); /* the shim appends; the test only reads */
    ts_tmpdir(outdir, sizeof outdir, "dirsout");
    npids = 0;
    browser = -1;
    unsetenv("TMPDIR"); /* neither the fixture's mkdtemp nor the reaper's rule */
}

static void br_teardown(void)
{
    ts_kill_session(dt_session);
    for (int i = 0; i < npids; i++)
        kill(pids[i], SIGKILL);
    if (browser > 0) {
        kill(browser, SIGKILL);
        ts_waitpid(browser, 10);
    }
    char *dir = ts_slurp(dt_fmt("%s/dir", outdir));
    if (dir && strncmp(dir, "/tmp/org.chromium.Chromium.crtest.", strlen("/tmp/org.chromium.Chromium.crtest.")) == 0)
        ts_rm_rf(dir);
    free(dir);
    ts_rm_rf(outdir);
    dt_teardown();
}

TestSuite(dirs_browser, .init = br_setup, .fini = br_teardown, .timeout = 120);

/* Starts the fixture with --user-data-dir=udd; returns its mkdtemp dir. */
static char *start_browser(const char *udd)
{
    char *argv[] = {(char *)ts_build("fixtures/dirs_browser"), outdir, (char *)udd, NULL};
    browser = ts_spawn(argv, dt_session, NULL);
    cr_assert_eq(ts_wait_file(dt_fmt("%s/ready", outdir), 30), 0, "the fixture browser never got ready");
    npids = ts_read_pids(dt_fmt("%s/pids", outdir), pids, MAX_PIDS);
    cr_assert_eq(npids, 2, "fixture reported %d pids", npids);
    char *dir = ts_slurp(dt_fmt("%s/dir", outdir));
    cr_assert_not_null(dir);
    cr_assert(dt_exists(dir));
    return dir;
}

static void expect_browser_written(const char *udd)
{
    dt_expect_file(dt_fmt("%s/Default/Preferences", udd), "{\"written_by\":\"dirs_browser\"}\n");
    dt_expect_file(dt_fmt("%s/Local State", udd), "{\"written_by\":\"dirs_browser\"}\n");
    char target[64];
    ssize_t n = readlink(dt_fmt("%s/SingletonLock", udd), target, sizeof target - 1);
    cr_assert_gt(n, 0, "the SingletonLock symlink is gone");
}

static char *reap_and_check_processes(void)
{
    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    ts_waitpid(browser, 10);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived the reap: %s", pids[i], out);
    return out;
}

Test(dirs_browser, a_user_data_dir_made_before_the_session_is_intact_after_the_reap)
{
    const char *udd = dt_path("my-profile");
    dt_victim(udd);
    dt_mkdir(dt_fmt("%s/Default", udd), 0700);
    dt_write(dt_fmt("%s/Default/Bookmarks", udd), "my bookmarks\n");
    /* the session starts after the user made the profile */
    ts_session_remove(dt_session);
    ts_session_create(dt_session, sizeof dt_session, &dt_reg);
    registry_close(&dt_reg);
    ts_after_birth_of(ts_registry_file((uint32_t)getuid(), dt_session), dt_base);
    char *tmp = start_browser(udd);
    expect_browser_written(udd);

    char *out = reap_and_check_processes();
    dt_expect_dir(out, udd, "kept", "made before the session");
    dt_expect_dir(out, tmp, "removed", NULL);
    cr_assert_not(dt_exists(tmp), "the mkdtemp directory %s stayed", tmp);
    dt_expect_victim(udd);
    dt_expect_file(dt_fmt("%s/Default/Bookmarks", udd), "my bookmarks\n");
    expect_browser_written(udd);
    free(tmp);
    free(out);
}

/* The browser runs with `udd`; the reap removes it and the singleton
 * directory. */
static void expect_profile_and_singleton_removed(const char *udd)
{
    char *tmp = start_browser(udd);
    expect_browser_written(udd);

    char *out = reap_and_check_processes();
    dt_expect_dir(out, udd, "removed", NULL);
    dt_expect_dir(out, tmp, "removed", NULL);
    cr_assert_not(dt_exists(udd));
    cr_assert_not(dt_exists(tmp));
    free(tmp);
    free(out);
}

/* Issue 11: a profile the bot made during the session in /tmp without
 * mkdtemp (any name) and gave to the browser is the session's: removed,
 * where today it was "kept: existed before the browser started". */
Test(dirs_browser, a_user_data_dir_the_bot_made_in_the_session_is_removed)
{
    const char *udd = dt_path("tmpk2j3h4");
    dt_mkdir(udd, 0700);
    expect_profile_and_singleton_removed(udd);
}

Test(dirs_browser, a_user_data_dir_the_browser_created_in_tmp_is_removed)
{
    expect_profile_and_singleton_removed(dt_path("fresh-profile"));
}

Test(dirs_browser, a_user_data_dir_the_browser_created_elsewhere_is_kept)
{
    const char *udd = dt_other_path("bot-profile");
    char *tmp = start_browser(udd);

    char *out = reap_and_check_processes();
    dt_expect_dir(out, udd, "kept", "outside a temporary directory");
    dt_expect_dir(out, tmp, "removed", NULL);
    expect_browser_written(udd);
    free(tmp);
    free(out);
}
