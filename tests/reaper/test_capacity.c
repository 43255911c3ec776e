/* What the registry's fixed size means for a bot: the sessions that fit in
 * a container's /dev/shm next to Chrome, and what a session whose table
 * fills gets when nothing frees its records (preload mode with
 * CHROMEREAPER_WATCHDOG=0: no supervisor recycles them). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

static char outdir[256], made_dir[512], session[64];
static pid_t pids[8];
static int npids;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "capacity");
    made_dir[0] = session[0] = '\0';
    npids = 0;
}

static void teardown(void)
{
    for (int i = 0; i < npids; i++)
        ts_kill(pids[i], SIGKILL);
    if (made_dir[0])
        ts_rm_rf(made_dir);
    if (session[0])
        ts_session_remove(session);
    ts_rm_rf(outdir);
}

TestSuite(capacity, .init = setup, .fini = teardown, .timeout = 120);

/* Docker gives a container 64 MB of /dev/shm.  Every registry is allocated
 * whole when it is made (a later page fault on a full tmpfs would be SIGBUS
 * in the bot), so each session holds its full size: at 5.4 MiB, the 12th
 * session did not fit.  At most 1 MiB each, 64 sessions take what 12 did
 * and leave Chrome most of it. */
Test(capacity, sixty_four_sessions_fit_in_a_docker_sized_dev_shm)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a private mount namespace");
    char script[4096];
    snprintf(script, sizeof script,
             "mount --make-rprivate / && mount -t tmpfs -o size=64m tmpfs /dev/shm && "
             "i=0; while [ $i -lt 64 ]; do i=$((i+1)); %s mksession fit$i || { echo made $((i-1)); exit 1; }; done; "
             "echo made $i; df -k /dev/shm | tail -1",
             ts_build("fixtures/bench_tree"));
    char *argv[] = {"unshare", "--mount", "sh", "-c", script, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "made 64\n"), "%s", out);
    free(out);
}

static unsigned long number_after(const char *text, const char *key)
{
    const char *at = strstr(text, key);
    cr_assert_not_null(at, "\"%s\" not in: %s", key, text);
    return strtoul(at + strlen(key), NULL, 10);
}

/* A browser whose session's table is full: its later processes are not
 * recorded, the refusals are counted, the first refused process warns on
 * the stderr it shares with the bot (once for the whole session), `ls`
 * shows the count, and `reap` says so and still reaps every process
 * (cookie scan, descendant walk) and the directory it recorded. */
Test(capacity, an_unsupervised_session_that_fills_its_table_is_still_reaped_whole)
{
    struct cr_registry reg;
    /* four entries: fake_chromium's processes make about a dozen records */
    ts_session_create_sized(session, sizeof session, &reg, 4, CR_DIR_CAPACITY_DEFAULT);
    registry_close(&reg);
    char ready[300], pidfile[300], dirfile[300], log[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(log, sizeof log, "%s/bot.log", outdir);
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", outdir);
    setenv("CHROMEREAPER_WATCHDOG", "0", 1);
    char *bot[] = {(char *)ts_build("fixtures/fake_chromium"), "leave", outdir, NULL};
    pid_t pid = ts_spawn(bot, session, log);
    unsetenv("CHROMEREAPER_WATCHDOG");
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture never got ready");
    int st = ts_waitpid(pid, 30);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7, "fake_chromium leave: status %d", st);
    npids = ts_read_pids(pidfile, pids, 8);
    cr_assert_eq(npids, 5);
    char *dir = ts_slurp(dirfile);
    cr_assert_not_null(dir);
    snprintf(made_dir, sizeof made_dir, "%s", dir);
    free(dir);
    char *said = ts_slurp(log);
    cr_assert_not_null(said);
    int warnings = 0;
    for (const char *p = said; (p = strstr(p, "registry is full")) != NULL; p++)
        warnings++;
    cr_expect_eq(warnings, 1, "not exactly one warning: [%s]", said);
    free(said);

    char *ls[] = {(char *)ts_build("chromereaper"), "ls", "--session", session, NULL};
    char *out = NULL;
    cr_assert_eq(ts_run(ls, &out), 0, "%s", out);
    unsigned long overflow = number_after(out, "overflow ");
    cr_expect_gt(overflow, 0ul, "a full table counted no refusals: %s", out);
    free(out);

    char *dry[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--dry-run", "--json",
                   NULL};
    cr_assert_eq(ts_run(dry, &out), 0, "%s", out);
    cr_expect_eq(number_after(out, "\"registry_overflow\":"), overflow, "%s", out);
    free(out);

    char *reap[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0.3", NULL};
    int rc = ts_run(reap, &out);
    cr_assert_eq(rc, 0, "%s", out);
    char warn[128];
    snprintf(warn, sizeof warn, "the registry overflowed %lu times", overflow);
    cr_expect(strstr(out, warn), "no \"%s\" in: %s", warn, out);
    for (int i = 0; i < npids; i++)
        cr_expect_eq(ts_wait_gone(pids[i], 10), 0, "pid %d survived: %s", (int)pids[i], out);
    cr_expect_neq(access(made_dir, F_OK), 0, "%s was not removed: %s", made_dir, out);
    free(out);
}
