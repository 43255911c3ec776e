/* When /dev/shm cannot hold a registry (full, read-only), nothing may break:
 * the library warns once and the program runs as if it were not there, and
 * `run` still reaps what its command left, by cookie and as descendants.
 * Each case runs in a private mount namespace with a tiny tmpfs over
 * /dev/shm, so the rest of the machine is untouched. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static char outdir[256], made_dir[512];
static pid_t pids[8];
static int npids;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "degraded");
    made_dir[0] = '\0';
    npids = 0;
}

static void teardown(void)
{
    for (int i = 0; i < npids; i++)
        ts_kill(pids[i], SIGKILL);
    if (made_dir[0])
        ts_rm_rf(made_dir);
    ts_rm_rf(outdir);
}

TestSuite(degraded, .init = setup, .fini = teardown, .timeout = 120);

/* sh -c SCRIPT in a mount namespace whose /dev/shm is `shm_opts`. */
static int in_small_shm(const char *shm_opts, const char *script, char **out)
{
    char full[4096];
    snprintf(full, sizeof full,
             "mount --make-rprivate / && mount -t tmpfs -o %s tmpfs /dev/shm && %s", shm_opts, script);
    char *argv[] = {"unshare", "--mount", "sh", "-c", full, NULL};
    return ts_run(argv, out);
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(degraded, a_full_dev_shm_leaves_the_host_running_with_one_warning)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a private mount namespace");
    char script[2048];
    /* several processes under the library, each would warn if it could */
    snprintf(script, sizeof script,
             "LD_PRELOAD=%s sh -c 'echo one; sh -c \"echo two; exit 3\"; echo status $?'",
             ts_build("libchromereaper.so"));
    char *out = NULL;
    int rc = in_small_shm("size=64k", script, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "one\ntwo\nstatus 3\n"), "the host did not run normally: %s", out);
    cr_assert_eq(count_lines(out, "chromereaper:"), 1, "not exactly one warning: %s", out);
    cr_assert(strstr(out, "No space left on device"), "%s", out);
    free(out);
}

Test(degraded, a_read_only_dev_shm_leaves_the_host_running_with_one_warning)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a private mount namespace");
    char script[2048];
    snprintf(script, sizeof script, "LD_PRELOAD=%s sh -c 'echo fine; true'", ts_build("libchromereaper.so"));
    char *out = NULL;
    int rc = in_small_shm("ro,size=64k", script, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "fine\n"), "%s", out);
    cr_assert_eq(count_lines(out, "chromereaper:"), 1, "not exactly one warning: %s", out);
    free(out);
}

Test(degraded, run_without_a_registry_still_reaps_by_cookie_and_descent)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a private mount namespace");
    char script[2048];
    snprintf(script, sizeof script, "%s run --grace 0.3 -- %s leave %s", ts_build("chromereaper"),
             ts_build("fixtures/fake_chromium"), outdir);
    char *out = NULL;
    int rc = in_small_shm("size=64k", script, &out);
    char pidfile[300], dirfile[300];
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", outdir);
    npids = ts_read_pids(pidfile, pids, 8);
    char *dir = ts_slurp(dirfile);
    if (dir)
        snprintf(made_dir, sizeof made_dir, "%s", dir);
    free(dir);
    cr_assert_eq(rc, 7, "run must exit with the command's status: %s", out);
    cr_assert_eq(npids, 5, "%s", out);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived: %s", pids[i], out);
    cr_assert_eq(count_lines(out, "cannot create a registry"), 1, "%s", out);
    cr_assert_eq(count_lines(out, "registry unusable"), 0, "the library warned too: %s", out);
    free(out);
}
