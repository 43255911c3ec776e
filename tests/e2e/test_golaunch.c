/* Chrome started the way Go's automation libraries (chromedp, rod) start it:
 * os/exec forks and execs with raw system calls and hands the child the
 * environment the Go runtime copied at start-up, so no wrapper of the
 * library runs in the launcher and chromium never inherits a session made
 * there: under LD_PRELOAD alone chromium becomes the root of a session of
 * its own.  The launcher (tests/fixtures/go/) makes its profile with
 * os.MkdirTemp, starts chromium on it and is SIGKILLed; afterwards nothing
 * may be left, for its cgo build (the library loads into it) and its
 * static build (it ignores LD_PRELOAD) alike, supervised and not. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>

#include "botrun.h"
#include "support.h"

static struct botrun b;

static void setup(void) { br_setup(&b, "golaunch"); }
static void teardown(void) { br_teardown(&b); }

TestSuite(golaunch, .init = setup, .fini = teardown, .timeout = 300);

static void launcher_killed(const char *build, int loads_library, enum br_mode mode, const char *how)
{
    static char page[300];
    snprintf(page, sizeof page, "file://%s", ts_source("examples/pages/index.html"));
    char *argv[] = {(char *)ts_build(build), b.ready, page, NULL};
    br_start(&b, mode, argv);
    pid_t launcher = br_wait_ready(&b);
    pid_t browser = br_find_browser(&b);
    if (mode == BR_PRELOAD) {
        /* the cgo build loads the library: a session of its own */
        if (loads_library)
            br_note_session_of(&b, launcher);
        br_note_session_of(&b, browser);
    }
    cr_assert_gt(br_browser_procs(), 3, "%s: too few chromium processes to prove anything", how);
    cr_assert_eq(ts_kill(launcher, SIGKILL), 0);
    cr_expect_eq(br_wait_end(&b), 128 + SIGKILL, "%s: the status changed", how);
    br_expect_clean(&b, how);
    br_expect_output(&b, "", NULL);
}

Test(golaunch, cgo_build_killed_under_ld_preload_leaves_nothing)
{
    launcher_killed("fixtures/go_launcher_cgo", 1, BR_PRELOAD, "cgo, preload");
}

Test(golaunch, static_build_killed_under_ld_preload_leaves_nothing)
{
    launcher_killed("fixtures/go_launcher_static", 0, BR_PRELOAD, "static, preload");
}

Test(golaunch, cgo_build_killed_under_run_leaves_nothing)
{
    launcher_killed("fixtures/go_launcher_cgo", 1, BR_RUN, "cgo, run");
}

Test(golaunch, static_build_killed_under_run_leaves_nothing)
{
    launcher_killed("fixtures/go_launcher_static", 0, BR_RUN, "static, run");
}
