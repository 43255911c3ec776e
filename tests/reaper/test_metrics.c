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
#include "fixture.h"
#include "support.h"

static struct tf_run f;
static char run_log[300];
static char metrics[300];

static void setup(void)
{
    tf_init(&f, "metrics");
    snprintf(metrics, sizeof metrics, "%s/chromereaper.prom", f.outdir);
    /* what `run` prints of its reaps: a log, not the suite's output */
    snprintf(run_log, sizeof run_log, "%s/run.log", f.outdir);
}

static void teardown(void)
{
    tf_cleanup(&f);
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
    snprintf(f.session, sizeof f.session, "crtest-metrics-run-%d", (int)getpid());
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", f.session, "--metrics-file", metrics,
                    "--", (char *)ts_build("fixtures/fake_chromium"), "leave", f.outdir, NULL};
    f.started = ts_spawn(argv, NULL, run_log);
    int st = ts_waitpid(f.started, 60);
    f.started = -1;
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 7, "%#x", st);
    tf_read_fixture(&f);
    for (int i = 0; i < f.npids; i++)
        cr_assert_not(ts_alive(f.pids[i]), "pid %d survived", f.pids[i]);
    char *text = ts_slurp(metrics);
    cr_assert_not_null(text, "no metrics file");
    assert_promtool_accepts(metrics);
    assert_counts_of_a_leave_reap(text);
    char label[128];
    snprintf(label, sizeof label, "session=\"%s\"", f.session);
    cr_assert_not_null(strstr(text, label));
    free(text);
    f.session[0] = '\0';
}

/* The old file is replaced by rename: another name for the old inode keeps
 * the old text, and no temporary file is left next to it. */
Test(metrics, reap_replaces_the_file_by_rename)
{
    struct cr_registry reg;
    ts_session_create(f.session, sizeof f.session, &reg);
    registry_close(&reg);
    char old[320];
    snprintf(old, sizeof old, "%s/old-name", f.outdir);
    FILE *prom = fopen(metrics, "w");
    cr_assert_not_null(prom);
    fputs("# the previous scrape\n", prom);
    fclose(prom);
    cr_assert_eq(link(metrics, old), 0);
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", f.session, "--metrics-file", metrics, NULL};
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
    DIR *d = opendir(f.outdir);
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            entries++;
    closedir(d);
    cr_assert_eq(entries, 2, "a temporary file was left in %s", f.outdir);
    f.session[0] = '\0';
}

/* Preload mode: the watchdog takes the path from CHROMEREAPER_METRICS_FILE. */
Test(metrics, watchdog_writes_from_the_environment)
{
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), f.outdir);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    setenv("CHROMEREAPER_METRICS_FILE", metrics, 1);
    f.started = ts_spawn(argv, NULL, run_log);
    unsetenv("LD_PRELOAD");
    unsetenv("CHROMEREAPER_METRICS_FILE");
    tf_read_fixture(&f);
    cr_assert_eq(tb_session_of_root(f.started, f.session, sizeof f.session), 0, "no session for the shell");
    cr_assert_gt(ts_watchdog_pid(f.session), 0, "no watchdog");
    /* the root dies alone: the browser (its child) is orphaned */
    ts_kill(f.started, SIGKILL);
    ts_waitpid(f.started, 10);
    f.started = -1;
    cr_assert_eq(ts_wait_file(metrics, 30), 0, "the watchdog wrote no metrics");
    char *text = ts_slurp(metrics);
    /* browser, two helpers, renderer, daemon */
    cr_assert_eq(metric(text, "chromereaper_processes_reaped_total", NULL), 5.0, "%s", text);
    cr_assert_eq(metric(text, "chromereaper_directories_removed_total", NULL), 1.0);
    free(text);
    assert_promtool_accepts(metrics);
    f.session[0] = '\0';
}

/* Rounds reaped by the supervisor while the bot runs are counted, each
 * rewriting the file. */
Test(metrics, run_counts_rounds)
{
    snprintf(f.session, sizeof f.session, "crtest-metrics-rounds-%d", (int)getpid());
    char done[300];
    snprintf(done, sizeof done, "%s/done", f.outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", f.session, "--metrics-file", metrics,
                    "--", (char *)ts_build("fixtures/rounds_bot"), "bot", "3", "2", f.outdir, NULL};
    f.started = ts_spawn(argv, NULL, run_log);
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
