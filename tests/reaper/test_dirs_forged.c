/* Forged directory records (issue 9): a zygote's forked child, a renderer
 * that runs untrusted pages, appends records naming directories it did not
 * make (tests/fixtures/forge_dirs.c): the user's project directory, made in
 * /tmp before the session, and a directory the bot made during the session
 * for its own output.  Whatever the record says (mkdtemp, a --user-data-dir
 * present at launch with the real identity, or one "absent at launch"),
 * the reap keeps both, every byte. */
#include <signal.h>

#include "test_dirs.h"

static char fg_outdir[256];
static char fg_project[300]; /* the user's, made before the session */
static pid_t fg_zygote = -1;

static void fg_setup(void)
{
    dt_nmounts = 0;
    dt_other[0] = '\0';
    ts_tmpdir(dt_base, sizeof dt_base, "dirs");
    snprintf(fg_project, sizeof fg_project, "%s/thesis", dt_base);
    dt_victim(fg_project);
    dt_write(dt_fmt("%s/thesis.tex", fg_project), "\\documentclass{book}\n");
    /* the session starts after the user made the project */
    ts_after_birth_of(fg_project, "/dev/shm");
    ts_session_create(dt_session, sizeof dt_session, &dt_reg);
    registry_close(&dt_reg);
    ts_after_birth_of(ts_registry_file((uint32_t)getuid(), dt_session), dt_base);
    ts_tmpdir(fg_outdir, sizeof fg_outdir, "forgeout");
    fg_zygote = -1;
}

static void fg_teardown(void)
{
    ts_kill_session(dt_session);
    if (fg_zygote > 0) {
        ts_kill(fg_zygote, SIGKILL);
        ts_waitpid(fg_zygote, 10);
    }
    ts_rm_rf(fg_outdir);
    dt_teardown();
}

TestSuite(dirs_forged, .init = fg_setup, .fini = fg_teardown, .timeout = 60);

static void expect_project_intact(void)
{
    dt_expect_victim(fg_project);
    dt_expect_file(dt_fmt("%s/thesis.tex", fg_project), "\\documentclass{book}\n");
}

/* The bot's own output, made during the session (with mkdtemp, as a bot
 * would), never given to a browser. */
static const char *bot_output(void)
{
    char *dir = (char *)dt_fmt("%s/bot-output-XXXXXX", dt_base);
    cr_assert_not_null(mkdtemp(dir));
    dt_write(dt_fmt("%s/results.csv", dir), "url,status\n");
    return dir;
}

/* The renderer forges records of `origin` for both directories; reap. */
static void forge_and_reap(const char *origin)
{
    const char *output = bot_output();
    char *argv[] = {(char *)ts_build("fixtures/forge_dirs"), fg_outdir, (char *)origin, fg_project,
                    (char *)output, NULL};
    fg_zygote = ts_spawn(argv, dt_session, NULL);
    cr_assert_eq(ts_wait_file(dt_fmt("%s/ready", fg_outdir), 30), 0, "the renderer never forged its records");

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    expect_project_intact();
    dt_expect_file(dt_fmt("%s/results.csv", output), "url,status\n");
    dt_expect_dir(out, fg_project, "kept", "made before the session");
    dt_expect_dir(out, output, "kept", "never given to a browser");
    free(out);
}

Test(dirs_forged, forged_mkdtemp_records_delete_nothing)
{
    forge_and_reap("mkdtemp");
}

Test(dirs_forged, forged_user_data_dir_records_with_identity_delete_nothing)
{
    forge_and_reap("user-data-dir");
}

Test(dirs_forged, forged_user_data_dir_records_absent_at_launch_delete_nothing)
{
    forge_and_reap("user-data-dir-absent");
}
