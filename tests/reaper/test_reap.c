/* The reaper against the fixture browser: every shape Chrome leaves behind
 * (forked helpers, an exec'd child, a setsid daemon started through
 * posix_spawn(NULL, ...), a mkdtemp directory, SIGTERM ignored) is gone
 * after a reap, and an unrelated "chromium" is not touched. */
#include <criterion/criterion.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

#define MAX_PIDS 16

static char session[64];
static char outdir[256];
static pid_t browser = -1, bystander = -1;
static pid_t pids[MAX_PIDS];
static int npids;
static char tmpdir_made[512];

static void setup(void)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    registry_close(&reg);
    ts_tmpdir(outdir, sizeof outdir, "reap");
    char *by[] = {(char *)ts_build("fixtures/fake_chromium"), "bystander", NULL};
    bystander = ts_spawn(by, NULL, NULL);
}

static void teardown(void)
{
    ts_kill_session(session);
    for (int i = 0; i < npids; i++)
        ts_kill(pids[i], SIGKILL);
    if (browser > 0) {
        ts_kill(browser, SIGKILL);
        ts_waitpid(browser, 10);
    }
    if (bystander > 0) {
        ts_kill(bystander, SIGKILL);
        ts_waitpid(bystander, 10);
    }
    if (tmpdir_made[0])
        ts_rm_rf(tmpdir_made);
    ts_rm_rf(outdir);
}

/* Starts the fixture browser in the session and waits until it is ready. */
static void start_browser(const char *mode)
{
    char *argv[] = {(char *)ts_build("fixtures/fake_chromium"), (char *)mode, outdir, NULL};
    browser = ts_spawn(argv, session, NULL);
    char ready[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    char pidfile[300], dirfile[300];
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", outdir);
    npids = ts_read_pids(pidfile, pids, MAX_PIDS);
    char *dir = ts_slurp(dirfile);
    cr_assert_not_null(dir);
    snprintf(tmpdir_made, sizeof tmpdir_made, "%s", dir);
    free(dir);
    /* browser, two helpers, renderer, daemon */
    cr_assert_eq(npids, 5, "fixture reported %d pids", npids);
}

static char *reaper(const char *cmd, const char *extra, int *rc)
{
    char *argv[8] = {(char *)ts_build("chromereaper"), (char *)cmd, "--session", session};
    int n = 4;
    if (extra)
        argv[n++] = (char *)extra;
    argv[n++] = "--json";
    argv[n] = NULL;
    char *out = NULL;
    *rc = ts_run(argv, &out);
    return out;
}

TestSuite(reaper, .init = setup, .fini = teardown, .timeout = 120);

Test(reaper, reap_kills_every_shape_and_removes_the_temp_dir)
{
    start_browser("browser");
    for (int i = 0; i < npids; i++)
        cr_assert(ts_alive(pids[i]), "pid %d not alive before the reap", pids[i]);
    struct stat st;
    cr_assert_eq(stat(tmpdir_made, &st), 0);

    int rc;
    char *out = reaper("reap", "--grace=0.3", &rc);
    cr_assert_eq(rc, 0, "reap exited %d: %s", rc, out);
    cr_assert(strstr(out, "\"survived\":0"), "%s", out);
    cr_assert(strstr(out, "\"killed_by_sigkill\":5"), "SIGTERM is ignored: all 5 need SIGKILL: %s", out);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived the reap", pids[i]);
    cr_assert_neq(stat(tmpdir_made, &st), 0, "%s was not removed", tmpdir_made);
    cr_assert(ts_alive(bystander), "the bystander chromium was killed");
    cr_assert_eq(ts_count_cookie(session), 0);
    free(out);
}

/* --grace 0 gives no grace: SIGKILL alone ends what the freeze stopped
 * (today every process also got SIGTERM and SIGCONT first, and some died
 * of the SIGTERM while the report said "TERM,KILL"). */
Test(reaper, grace_0_sends_sigkill_alone)
{
    start_browser("browser");
    int rc;
    char *out = reaper("reap", "--grace=0", &rc);
    cr_assert_eq(rc, 0, "reap exited %d: %s", rc, out);
    cr_assert(strstr(out, "\"killed_by_sigkill\":5"), "%s", out);
    cr_assert(strstr(out, "\"terminated\":0"), "%s", out);
    cr_assert_null(strstr(out, "TERM"), "a process was sent SIGTERM: %s", out);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived the reap", pids[i]);
    struct stat st;
    cr_assert_neq(stat(tmpdir_made, &st), 0, "%s was not removed", tmpdir_made);
    cr_assert(ts_alive(bystander), "the bystander chromium was killed");
    free(out);
}

/* A helper that keeps forking while the reap plans: the freeze finds its
 * children forked after the scan, and none escapes (each carries the
 * session's cookie: none may be left). */
static void reap_spawner(const char *grace)
{
    start_browser("spawner");
    int rc;
    char *out = reaper("reap", grace, &rc);
    cr_assert_eq(rc, 0, "reap exited %d: %s", rc, out);
    cr_assert(strstr(out, "\"survived\":0"), "%s", out);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived the reap", pids[i]);
    cr_assert_eq(ts_count_cookie(session), 0, "a child forked during the reap escaped it: %s", out);
    cr_assert(ts_alive(bystander), "the bystander chromium was killed");
    free(out);
}

Test(reaper, a_process_forking_during_the_reap_leaves_no_child_behind) { reap_spawner("--grace=0"); }
Test(reaper, a_process_forking_during_a_graceful_reap_leaves_no_child_behind) { reap_spawner("--grace=0.2"); }

/* A zygote that forks during the grace and exits before the freeze that
 * follows it leaves its child to init (here the test, a subreaper or
 * not), its environment overwritten: no target is its parent and it
 * holds no cookie.  The registry page it still maps ties it, and the
 * rescan before SIGKILL finds it (today it was left running, and the
 * reap called itself clean). */
Test(reaper, a_child_forked_during_the_grace_by_a_dying_zygote_is_reaped)
{
    start_browser("zygote");
    int rc;
    char *out = reaper("reap", "--grace=0.5", &rc);
    char late_file[300];
    snprintf(late_file, sizeof late_file, "%s/late", outdir);
    cr_assert_eq(ts_wait_file(late_file, 5), 0, "the zygote forked nothing on SIGTERM: %s", out);
    pid_t late[2];
    cr_assert_eq(ts_read_pids(late_file, late, 2), 1);
    pids[npids++] = late[0]; /* the teardown's to kill if it escaped */
    cr_assert_not(ts_alive(late[0]), "the zygote's late child %d escaped the reap: %s", (int)late[0], out);
    cr_assert_eq(rc, 0, "reap exited %d: %s", rc, out);
    cr_assert(strstr(out, "\"found_by\":\"mapping\""), "not found by its mapping: %s", out);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived the reap", pids[i]);
    cr_assert(ts_alive(bystander), "the bystander chromium was killed");
    free(out);
}

/* reap --timings: one line on stderr after the reap, with every phase by
 * the name the bench reads; the phases add up to no more than the total,
 * and the report on stdout is unchanged. */
Test(reaper, timings_prints_one_line_of_phases_on_stderr)
{
    start_browser("browser");
    char out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/reap.out", outdir);
    snprintf(err_path, sizeof err_path, "%s/reap.err", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0",
                    "--json", "--timings", NULL};
    pid_t reap = ts_spawn_split(argv, NULL, out_path, err_path);
    int st = ts_waitpid(reap, 60);
    char *out = ts_slurp(out_path), *err = ts_slurp(err_path);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reap: %#x: %s %s", st, out, err);
    cr_assert(out[0] == '{' && strstr(out, "\"survived\":0"), "stdout is the report alone: %s", out);
    double scan, plan, freeze, sig, wait, dirs, total;
    int end = 0;
    int got = sscanf(err, "chromereaper: timings scan=%lf plan=%lf freeze=%lf signal=%lf wait=%lf dirs=%lf total=%lf\n%n",
                     &scan, &plan, &freeze, &sig, &wait, &dirs, &total, &end);
    cr_assert_eq(got, 7, "stderr: [%s]", err);
    cr_assert_eq(err[end], '\0', "one line only: [%s]", err);
    double phases[] = {scan, plan, freeze, sig, wait, dirs};
    double sum = 0;
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        cr_assert_geq(phases[i], 0, "[%s]", err);
        sum += phases[i];
    }
    cr_assert_leq(sum, total + 0.01, "the phases add up to more than the total: [%s]", err);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived the reap", pids[i]);
    free(out);
    free(err);
}

/* How many of the n pids have the scheduling policy `policy`. */
static int count_policy(const pid_t *p, int n, int policy)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += sched_getscheduler(p[i]) == policy;
    return k;
}

/* A target runs as SCHED_BATCH from the moment it is stopped, so the
 * wake-ups that stop and then kill it do not preempt the reaper on its CPU
 * (docs/BENCHMARKS.md, B4).  Seen during the grace, which the fixture
 * outlives by ignoring SIGTERM; the bystander keeps its policy. */
Test(reaper, targets_run_as_sched_batch_once_stopped)
{
    start_browser("browser");
    cr_assert_eq(count_policy(pids, npids, SCHED_OTHER), npids, "the fixture did not start as SCHED_OTHER");
    char out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/reap.out", outdir);
    snprintf(err_path, sizeof err_path, "%s/reap.err", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "3", "--json", NULL};
    pid_t reap = ts_spawn_split(argv, NULL, out_path, err_path);
    int batch = 0;
    /* until all are seen so, or the grace ends and they die */
    for (int tries = 0; tries < 5000 && batch < npids && ts_alive(pids[0]); tries++) {
        batch = count_policy(pids, npids, SCHED_BATCH);
        usleep(1000);
    }
    cr_assert_eq(batch, npids, "%d of %d targets ran as SCHED_BATCH during the grace", batch, npids);
    cr_assert_eq(sched_getscheduler(bystander), SCHED_OTHER, "the bystander's policy changed");
    int st = ts_waitpid(reap, 60);
    char *out = ts_slurp(out_path);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reap: %#x: %s", st, out);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived the reap", pids[i]);
    free(out);
}

/* A browser that made and removed more temporary directories than the
 * directory table holds still has its next one recorded, and reaped (today
 * the table filled up and that directory leaked). */
Test(reaper, a_directory_made_after_hundreds_removed_is_still_reaped)
{
    start_browser("churn");
    int rc;
    char *out = reaper("reap", "--grace=0.3", &rc);
    cr_assert_eq(rc, 0, "reap exited %d: %s", rc, out);
    struct stat st;
    cr_assert_neq(stat(tmpdir_made, &st), 0, "%s leaked: %s", tmpdir_made, out);
    cr_assert(strstr(out, "\"registry_overflow\":0,"), "records were lost: %s", out);
    free(out);
}

Test(reaper, dry_run_plans_but_touches_nothing)
{
    start_browser("browser");
    int rc;
    char *out = reaper("reap", "--dry-run", &rc);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"dry_run\":true"), "%s", out);
    for (int i = 0; i < npids; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\"pid\":%d,", pids[i]);
        cr_assert(strstr(out, needle), "pid %d missing from the plan: %s", pids[i], out);
        cr_assert(ts_alive(pids[i]), "dry run killed %d", pids[i]);
    }
    cr_assert_eq(count_policy(pids, npids, SCHED_OTHER), npids, "dry run changed a scheduling policy");
    char needle[600];
    snprintf(needle, sizeof needle, "\"path\":\"%s\",\"origin\":\"mkdtemp\",\"action\":\"planned\"", tmpdir_made);
    cr_assert(strstr(out, needle), "%s", out);
    struct stat st;
    cr_assert_eq(stat(tmpdir_made, &st), 0, "dry run removed the directory");
    free(out);
}

Test(reaper, ls_shows_each_process_with_its_role)
{
    start_browser("browser");
    int rc;
    char *out = reaper("ls", NULL, &rc);
    cr_assert_eq(rc, 0, "%s", out);
    char needle[64];
    snprintf(needle, sizeof needle, "\"pid\":%d,", pids[0]);
    char *browser_row = strstr(out, needle);
    cr_assert(browser_row, "%s", out);
    cr_assert(strstr(browser_row, "\"role\":\"browser\""), "%s", out);
    snprintf(needle, sizeof needle, "\"pid\":%d,", pids[4]);
    char *daemon_row = strstr(out, needle);
    cr_assert(daemon_row, "the setsid daemon is not listed: %s", out);
    cr_assert(strstr(daemon_row, "\"role\":\"crashpad\""), "%s", out);
    free(out);
}

Test(reaper, reap_of_a_missing_session_exits_3)
{
    int rc;
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", "crtest-no-such-session", NULL};
    char *out = NULL;
    rc = ts_run(argv, &out);
    cr_assert_eq(rc, 3);
    free(out);
}

Test(reaper, usage_errors_exit_2)
{
    char *a1[] = {(char *)ts_build("chromereaper"), "reap", NULL};
    char *a2[] = {(char *)ts_build("chromereaper"), "reap", "--session", "x", "--all", NULL};
    char *a3[] = {(char *)ts_build("chromereaper"), "frobnicate", NULL};
    char *a4[] = {(char *)ts_build("chromereaper"), "run", NULL};
    char *a5[] = {(char *)ts_build("chromereaper"), "reap", "--all", "--grace", "soon", NULL};
    cr_assert_eq(ts_run(a1, NULL), 2);
    cr_assert_eq(ts_run(a2, NULL), 2);
    cr_assert_eq(ts_run(a3, NULL), 2);
    cr_assert_eq(ts_run(a4, NULL), 2);
    cr_assert_eq(ts_run(a5, NULL), 2);
}

/* `run`: CMD leaves its browser behind and exits 7; run reaps everything
 * (the daemon was adopted by run, the subreaper) and exits 7 too. */
Test(reaper, run_reaps_what_cmd_left_and_keeps_its_status)
{
    char log[300];
    snprintf(log, sizeof log, "%s/run.log", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "0.3",
                    "--", (char *)ts_build("fixtures/fake_chromium"), "leave", outdir, NULL};
    ts_session_remove(session); /* run creates its own registry */
    pid_t run = ts_spawn(argv, NULL, log);
    int st = ts_waitpid(run, 60);
    cr_assert_neq(st, -1, "run did not finish");
    char *text = ts_slurp(log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7, "run exited with status %#x: %s", st, text);
    char pidfile[300];
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    npids = ts_read_pids(pidfile, pids, MAX_PIDS);
    cr_assert_eq(npids, 5, "%s", text);
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived run: %s", pids[i], text);
    char dirfile[300];
    snprintf(dirfile, sizeof dirfile, "%s/dir", outdir);
    char *dir = ts_slurp(dirfile);
    cr_assert_not_null(dir);
    snprintf(tmpdir_made, sizeof tmpdir_made, "%s", dir);
    struct stat sb;
    cr_assert_neq(stat(dir, &sb), 0, "%s was not removed: %s", dir, text);
    cr_assert(ts_alive(bystander));
    char shm[128];
    cr_assert_eq(registry_path(shm, sizeof shm, (uint32_t)getuid(), session), 0);
    cr_assert_neq(stat(shm, &sb), 0, "the registry outlived the session");
    free(dir);
    free(text);
}

/* A fatal signal to `run` is forwarded to CMD; CMD dies of it, run reports
 * 128+N after reaping. */
Test(reaper, run_forwards_sigterm_and_exits_128_plus_n)
{
    char log[300];
    snprintf(log, sizeof log, "%s/run.log", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "5",
                    "--", "/bin/sleep", "600", NULL};
    ts_session_remove(session);
    pid_t run = ts_spawn(argv, NULL, log);
    char shm[128];
    cr_assert_eq(registry_path(shm, sizeof shm, (uint32_t)getuid(), session), 0);
    /* the sleeper is up once its constructor recorded it: wait for the registry */
    struct cr_registry reg;
    int opened = 0;
    for (int i = 0; i < 500 && !opened; i++) {
        opened = registry_open(&reg, (uint32_t)getuid(), session, 0, NULL, 0) == CR_REG_OK &&
                 registry_entry_count(&reg) > 0;
        if (!opened)
            usleep(10000);
    }
    cr_assert(opened, "the command never started under the shim");
    registry_close(&reg);
    ts_kill(run, SIGTERM);
    int st = ts_waitpid(run, 30);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM, "status %#x", st);
}
