/* Who is a browser is decided by the real executable, never by argv[0]: a
 * helper of the bot that re-execs itself through /proc/self/exe (argv[0]
 * "/proc/self/exe" or "exe") or names itself "chromium" is not part of the
 * browser stack, so it is never signalled and its directories stay. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

static char session[64], outdir[256], made[4096];
static pid_t helper = -1, launcher = -1;

static void setup(void)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    registry_close(&reg);
    ts_tmpdir(outdir, sizeof outdir, "classify");
    made[0] = '\0';
}

static void teardown(void)
{
    if (helper > 0)
        ts_kill(helper, SIGKILL);
    if (launcher > 0)
        ts_kill(launcher, SIGKILL);
    ts_waitpid(launcher, 10);
    ts_kill_session(session);
    ts_session_remove(session);
    if (made[0])
        ts_rm_rf(made);
    ts_rm_rf(outdir);
}

TestSuite(classify, .init = setup, .fini = teardown, .timeout = 60);

static void reexec_helper_is_left_alone(const char *argv0)
{
    char *argv[] = {(char *)ts_build("fixtures/reexec_helper"), (char *)argv0, outdir, NULL};
    launcher = ts_spawn(argv, session, NULL); /* the same process after its re-exec */
    char ready[300], path[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0);
    snprintf(path, sizeof path, "%s/pid", outdir);
    pid_t p[1];
    cr_assert_eq(ts_read_pids(path, p, 1), 1);
    helper = p[0];
    snprintf(path, sizeof path, "%s/dir", outdir);
    char *dir = ts_slurp(path);
    cr_assert_not_null(dir);
    snprintf(made, sizeof made, "%s", dir);
    free(dir);

    char *reap[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", "--json", NULL};
    char *out = NULL;
    int rc = ts_run(reap, &out);
    cr_expect_eq(rc, 0, "%s", out);
    char needle[32];
    snprintf(needle, sizeof needle, "\"pid\":%d,", (int)helper);
    cr_expect_null(strstr(out, needle), "argv[0] %s: the helper was signalled: %s", argv0, out);
    cr_expect(ts_alive(helper), "argv[0] %s: the helper was killed", argv0);
    struct stat st;
    cr_expect_eq(stat(made, &st), 0, "argv[0] %s: its directory %s was removed: %s", argv0, made, out);
    free(out);
}

Test(classify, a_helper_reexecd_through_proc_self_exe_is_not_a_browser) { reexec_helper_is_left_alone("/proc/self/exe"); }
Test(classify, a_helper_whose_argv0_is_exe_is_not_a_browser) { reexec_helper_is_left_alone("exe"); }
Test(classify, a_helper_that_calls_itself_chromium_is_not_a_browser) { reexec_helper_is_left_alone("chromium"); }
