/* --metrics-file: after each reap `run`, `watch` (preload mode, through
 * CHROMEREAPER_METRICS_FILE) and `reap` rewrite a Prometheus textfile that
 * promtool accepts, whose counts are those of the reap, and which replaces
 * the old file by rename (a scraper never reads half of it). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "registry.h"
#include "support.h"

#define MAX_PIDS 16

static char outdir[256], metrics[300], session[64];
static pid_t started = -1;
static pid_t pids[MAX_PIDS];
static int npids;
static char made_dir[512];

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "metrics");
    snprintf(metrics, sizeof metrics, "%s/chromereaper.prom", outdir);
    session[0] = made_dir[0] = '\0';
    npids = 0;
    started = -1;
}

static void teardown(void)
{
    if (session[0]) {
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        ts_kill_session(session);
        ts_session_remove(session);
    }
    for (int i = 0; i < npids; i++)
        ts_kill(pids[i], SIGKILL);
    if (started > 0) {
        pid_t kids[64];
        int n = ts_descendants(started, kids, 64);
        for (int i = 0; i < n; i++)
            ts_kill(kids[i], SIGKILL);
        ts_kill(started, SIGKILL);
        ts_waitpid(started, 10);
    }
    if (made_dir[0])
        ts_rm_rf(made_dir);
    ts_rm_rf(outdir);
}

TestSuite(metrics, .init = setup, .fini = teardown, .timeout = 120);

/* The sum of the samples of `name` whose labels contain `having` (NULL: all);
 * -1 if there is none. */
static double metric(const char *text, const char *name, const char *having)
{
    double sum = -1;
    size_t nlen = strlen(name);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, name, nlen) != 0 || line[nlen] != '{')
            continue;
        const char *close = strchr(line, '}');
        const char *eol = strchr(line, '\n');
        cr_assert(close && (!eol || close < eol), "malformed sample: %.80s", line);
        if (having) {
            char labels[512];
            snprintf(labels, sizeof labels, "%.*s", (int)(close - line), line);
            if (!strstr(labels, having))
                continue;
        }
        sum = (sum < 0 ? 0 : sum) + strtod(close + 1, NULL);
    }
    return sum;
}

/* promtool (Debian's prometheus package, installed by scripts/deps.sh)
 * accepts the file as it is. */
static void assert_promtool_accepts(const char *path)
{
    cr_assert_eq(access("/usr/bin/promtool", X_OK), 0,
                 "promtool is missing: scripts/deps.sh installs the prometheus package");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s'", path);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 0, "promtool check metrics rejected %s: %s", path, out ? out : "");
    free(out);
}

static void read_fixture_pids(void)
{
    char pidfile[300], dirfile[300];
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", outdir);
    npids = ts_read_pids(pidfile, pids, MAX_PIDS);
    cr_assert_eq(npids, 5, "fixture reported %d pids", npids);
    char *dir = ts_slurp(dirfile);
    cr_assert_not_null(dir);
    snprintf(made_dir, sizeof made_dir, "%s", dir);
    free(dir);
}

/* Everything the fixture browser left (its main process exits: 4
 * processes) was killed, its directory removed, and the file says so. */
static void assert_counts_of_a_leave_reap(const char *text)
{
    cr_assert_eq(metric(text, "chromereaper_processes_reaped_total", NULL), 4.0, "%s", text);
    cr_assert_eq(metric(text, "chromereaper_processes_reaped_total", "role=\"renderer\""), 1.0);
    cr_assert_eq(metric(text, "chromereaper_processes_reaped_total", "role=\"crashpad\""), 1.0);
    cr_assert_eq(metric(text, "chromereaper_processes_survived_total", NULL), 0.0);
    cr_assert_eq(metric(text, "chromereaper_directories_removed_total", NULL), 1.0);
    cr_assert_gt(metric(text, "chromereaper_freed_bytes_total", NULL), 0.0);
    cr_assert_eq(metric(text, "chromereaper_reap_duration_seconds_count", NULL), 1.0);
    cr_assert_gt(metric(text, "chromereaper_last_reap_timestamp_seconds", NULL), 0.0);
    cr_assert_geq(metric(text, "chromereaper_live_browser_processes", NULL), 0.0);
}

Test(metrics, run_writes_what_it_reaped)
{
    snprintf(session, sizeof session, "crtest-metrics-run-%d", (int)getpid());
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--metrics-file", metrics,
                    "--", (char *)ts_build("fixtures/fake_chromium"), "leave", outdir, NULL};
    started = ts_spawn(argv, NULL, NULL);
    int st = ts_waitpid(started, 60);
    started = -1;
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 7, "%#x", st);
    read_fixture_pids();
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived", pids[i]);
    char *text = ts_slurp(metrics);
    cr_assert_not_null(text, "no metrics file");
    assert_promtool_accepts(metrics);
    assert_counts_of_a_leave_reap(text);
    char label[128];
    snprintf(label, sizeof label, "session=\"%s\"", session);
    cr_assert_not_null(strstr(text, label));
    free(text);
    session[0] = '\0';
}

/* The old file is replaced by rename: another name for the old inode keeps
 * the old text, and no temporary file is left next to it. */
Test(metrics, reap_replaces_the_file_by_rename)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    registry_close(&reg);
    char old[320];
    snprintf(old, sizeof old, "%s/old-name", outdir);
    FILE *f = fopen(metrics, "w");
    cr_assert_not_null(f);
    fputs("# the previous scrape\n", f);
    fclose(f);
    cr_assert_eq(link(metrics, old), 0);
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--metrics-file", metrics, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 0, "%s", out ? out : "");
    free(out);
    char *prev = ts_slurp(old), *text = ts_slurp(metrics);
    cr_assert_str_eq(prev, "# the previous scrape\n", "the file was rewritten in place");
    cr_assert_eq(metric(text, "chromereaper_reap_duration_seconds_count", NULL), 1.0, "%s", text);
    cr_assert_eq(metric(text, "chromereaper_processes_reaped_total", NULL), 0.0);
    assert_promtool_accepts(metrics);
    free(prev);
    free(text);
    DIR *d = opendir(outdir);
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            entries++;
    closedir(d);
    cr_assert_eq(entries, 2, "a temporary file was left in %s", outdir);
    session[0] = '\0';
}

/* Preload mode: the watchdog takes the path from CHROMEREAPER_METRICS_FILE. */
Test(metrics, watchdog_writes_from_the_environment)
{
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), outdir);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    setenv("CHROMEREAPER_METRICS_FILE", metrics, 1);
    started = ts_spawn(argv, NULL, NULL);
    unsetenv("LD_PRELOAD");
    unsetenv("CHROMEREAPER_METRICS_FILE");
    char ready[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    read_fixture_pids();
    cr_assert_eq(tb_session_of_root(started, session, sizeof session), 0, "no session for the shell");
    cr_assert_gt(ts_watchdog_pid(session), 0, "no watchdog");
    /* the root dies alone: the browser (its child) is orphaned */
    ts_kill(started, SIGKILL);
    ts_waitpid(started, 10);
    started = -1;
    cr_assert_eq(ts_wait_file(metrics, 30), 0, "the watchdog wrote no metrics");
    char *text = ts_slurp(metrics);
    /* browser, two helpers, renderer, daemon */
    cr_assert_eq(metric(text, "chromereaper_processes_reaped_total", NULL), 5.0, "%s", text);
    cr_assert_eq(metric(text, "chromereaper_directories_removed_total", NULL), 1.0);
    free(text);
    assert_promtool_accepts(metrics);
    session[0] = '\0';
}

/* Rounds reaped by the supervisor while the bot runs are counted, each
 * rewriting the file. */
Test(metrics, run_counts_rounds)
{
    snprintf(session, sizeof session, "crtest-metrics-rounds-%d", (int)getpid());
    char done[300];
    snprintf(done, sizeof done, "%s/done", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--metrics-file", metrics,
                    "--", (char *)ts_build("fixtures/rounds_bot"), "bot", "3", "2", outdir, NULL};
    started = ts_spawn(argv, NULL, NULL);
    cr_assert_eq(ts_wait_file(done, 60), 0, "the fixture bot did not finish its rounds");
    double rounds = -1;
    for (int i = 0; i < 300 && rounds < 3; i++) {
        char *text = ts_slurp(metrics);
        rounds = text ? metric(text, "chromereaper_rounds_reaped_total", NULL) : -1;
        free(text);
        if (rounds < 3)
            usleep(50000);
    }
    cr_assert_geq(rounds, 3.0, "rounds reaped: %.0f", rounds);
    assert_promtool_accepts(metrics);
}
