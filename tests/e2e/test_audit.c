/* The audit a test suite asks for, with the real parts (chromium,
 * chromedriver, Debian's python3-selenium): `run --report` and the
 * watchdog's CHROMEREAPER_REPORT write a JSON document that validates
 * against docs/report.schema.json; `run --fail-on-leak` fails a bot that
 * forgets driver.quit() and passes one that quits; the circuit breaker
 * (--max-browsers, --max-round-age) reaps the rounds of a bot that starts
 * browsers and never quits them, and says why. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "support.h"

#define EXIT_LEAKED 86 /* reaper/commands.h */

static char outdir[256], tmpdir[300], report[300];

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "audit");
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", outdir);
    cr_assert_eq(mkdir(tmpdir, 0700), 0);
    snprintf(report, sizeof report, "%s/report.json", outdir);
    setenv("TMPDIR", tmpdir, 1); /* Chrome's and chromedriver's temp dirs: the test's own */
}

static void teardown(void)
{
    unsetenv("TMPDIR");
    ts_rm_rf(outdir);
}

TestSuite(audit, .init = setup, .fini = teardown, .timeout = 300);

/* `chromereaper run [opts] -- /usr/bin/python3 SCRIPT [args]`, to the end;
 * returns the exit status, output in *out. */
static int run_bot(const char *const *opts, const char *script, const char *const *args, char **out)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)ts_build("chromereaper");
    argv[n++] = "run";
    for (; opts && *opts; opts++)
        argv[n++] = (char *)*opts;
    argv[n++] = "--";
    argv[n++] = "/usr/bin/python3";
    argv[n++] = (char *)ts_source(script);
    for (; args && *args; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    return ts_run(argv, out);
}

/* Validates `path` with tests/e2e/validate_report.py (python3-jsonschema,
 * or with `builtin` its own small validator); its output in *out. */
static int validate_with(const char *path, int builtin, char **out)
{
    char *argv[] = {"/usr/bin/python3", (char *)ts_source("tests/e2e/validate_report.py"),
                    builtin ? "--builtin" : (char *)ts_source("docs/report.schema.json"),
                    builtin ? (char *)ts_source("docs/report.schema.json") : (char *)path,
                    builtin ? (char *)path : NULL, NULL};
    return ts_run(argv, out);
}

static int validate(const char *path, char **out)
{
    return validate_with(path, 0, out);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static const char *const quitting_bot[] = {"--loops", "2", "--interval", "0.1", NULL};
static const char *const forgetful_bot[] = {"--loops", "1", "--interval", "0.1", "--no-quit", NULL};

Test(audit, run_report_of_a_selenium_bot_matches_the_schema)
{
    const char *opts[] = {"--report", report, NULL};
    char *out = NULL, *check = NULL;
    int rc = run_bot(opts, "examples/selenium_bot.py", forgetful_bot, &out);
    cr_assert_eq(rc, 0, "run exited %d: %s", rc, out);
    char *json = ts_slurp(report);
    cr_assert_not_null(json, "no report at %s: %s", report, out);
    int v = validate(report, &check);
    cr_assert_eq(v, 0, "the report does not validate: %s\n%s", check, json);
    cr_assert(strstr(check, "valid ("), "%s", check);
    free(check);
    cr_assert_eq(validate_with(report, 1, &check), 0, "the built-in validator: %s\n%s", check, json);
    cr_assert(strstr(check, "valid (built-in validator)"), "%s", check);
    cr_assert(strstr(json, "\"mode\":\"run\""), "%s", json);
    cr_assert(strstr(json, "\"command_exit\":{\"code\":0}"), "%s", json);
    cr_assert(strstr(json, "\"role\":\"driver\",\"exe\":\"/usr/bin/chromedriver\""), "%s", json);
    cr_assert(strstr(json, "\"role\":\"browser\",\"exe\":\"/usr/lib/chromium/chromium\""), "%s", json);
    cr_assert_geq(count(json, "\"role\":\"renderer\""), 1, "%s", json);
    /* the wrapper script's helpers are there too, and how each was seen */
    cr_assert(strstr(json, "\"role\":\"other\""), "%s", json);
    cr_assert(strstr(json, "\"seen\":[\"constructor\""), "%s", json);
    /* one driver round, ended with its driver; chromedriver's profile was left and removed */
    cr_assert_eq(count(json, "\"root_start_ticks\""), 1, "%s", json);
    cr_assert(strstr(json, "\"ended_by\":\"round-ended\""), "%s", json);
    cr_assert(strstr(json, "scoped_dir."), "%s", json);
    cr_assert(strstr(json, "\"fate\":\"removed\""), "%s", json);
    /* written atomically: no temporary file stays beside it */
    char *ls_argv[] = {"/bin/ls", "-A", outdir, NULL};
    char *listing = NULL;
    ts_run(ls_argv, &listing);
    cr_assert_not(strstr(listing, ".tmp."), "%s", listing);
    free(listing);
    free(json);
    free(check);
    free(out);
}

Test(audit, validator_rejects_a_report_that_breaks_the_schema)
{
    const char *opts[] = {"--report", report, NULL};
    char *out = NULL, *check = NULL;
    cr_assert_eq(run_bot(opts, "examples/selenium_bot.py", quitting_bot, &out), 0, "%s", out);
    char *json = ts_slurp(report);
    cr_assert_not_null(json);
    char *p = strstr(json, "\"outcome\":\"exited\"");
    cr_assert_not_null(p, "%s", json);
    memcpy(p + strlen("\"outcome\":\""), "zombie", 6); /* same length as "exited" */
    char broken[320];
    snprintf(broken, sizeof broken, "%s/broken.json", outdir);
    FILE *f = fopen(broken, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    cr_assert_eq(validate(broken, &check), 1, "a report with outcome \"zombie\" validated: %s", check);
    cr_assert(strstr(check, "zombie"), "%s", check);
    free(check);
    cr_assert_eq(validate_with(broken, 1, &check), 1, "the built-in validator took it: %s", check);
    cr_assert(strstr(check, "zombie"), "%s", check);
    free(json);
    free(check);
    free(out);
}

/* Preload mode: the watchdog writes CHROMEREAPER_REPORT (a path relative to
 * the bot's working directory) when the bot dies, here of SIGKILL. */
Test(audit, watchdog_report_after_the_bot_is_killed_matches_the_schema)
{
    char ready[300], log[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(log, sizeof log, "%s/bot.log", outdir);
    char *argv[] = {"/usr/bin/python3", (char *)ts_source("examples/selenium_bot.py"), "--loops", "100000",
                    "--interval", "0.2", "--ready-file", ready, NULL};
    char cwd[4096];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(outdir), 0);
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    setenv("CHROMEREAPER_REPORT", "report.json", 1);
    pid_t bot = ts_spawn(argv, NULL, log);
    unsetenv("LD_PRELOAD");
    unsetenv("CHROMEREAPER_REPORT");
    cr_assert_eq(chdir(cwd), 0);
    if (ts_wait_file(ready, 120) != 0) {
        ts_kill(bot, SIGKILL);
        cr_assert_fail("the bot never read its first page: %s", ts_slurp(log));
    }
    cr_assert_eq(ts_kill(bot, SIGKILL), 0);
    ts_waitpid(bot, 30);
    cr_assert_eq(ts_wait_file(report, 60), 0, "the watchdog wrote no report");
    char *json = ts_slurp(report), *check = NULL;
    cr_assert_eq(validate(report, &check), 0, "%s\n%s", check, json);
    cr_assert(strstr(json, "\"mode\":\"watch\""), "%s", json);
    cr_assert(strstr(json, "examples/selenium_bot.py"), "the bot's command line: %s", json);
    /* the driver and its browser outlived the bot: reaped at the session's end */
    cr_assert(strstr(json, "\"reason\":\"session-ended\""), "%s", json);
    cr_assert_geq(count(json, "\"outcome\":\"reaped-sigterm\"") + count(json, "\"outcome\":\"reaped-sigkill\""),
                  6, "%s", json);
    cr_assert_eq(count(json, "\"outcome\":\"survived\""), 0, "%s", json);
    free(json);
    free(check);
}

Test(audit, leak_gate_passes_a_bot_that_quits)
{
    const char *opts[] = {"--fail-on-leak", "--report", report, NULL};
    char *out = NULL;
    int rc = run_bot(opts, "examples/selenium_bot.py", quitting_bot, &out);
    cr_assert_eq(rc, 0, "a bot that quits cleanly: run exited %d: %s\n%s", rc, out, ts_slurp(report));
    free(out);
}

/* A bot that leaves with its driver and browser running (it exits
 * without driver.quit() and without Python's clean-up). */
Test(audit, leak_gate_fails_a_bot_that_forgets_to_quit)
{
    const char *gate[] = {"--fail-on-leak", "--report", report, NULL};
    const char *leave[] = {"--browsers", "1", "--wait-dead", "0", NULL};
    char *out = NULL;
    int rc = run_bot(gate, "tests/e2e/abandon_bot.py", leave, &out);
    cr_assert_eq(rc, EXIT_LEAKED, "run exited %d: %s", rc, out);
    cr_assert(strstr(out, "--fail-on-leak"), "%s", out);
    char *json = ts_slurp(report);
    cr_assert(strstr(json, "\"role\":\"driver\",\"exe\":\"/usr/bin/chromedriver\",\"found_by\":\"registry\","
                           "\"seen\":[\"fork\",\"exec\"],\"round\":0,\"outcome\":\"reaped-sigterm\""),
              "%s", json);
    cr_assert(strstr(json, "\"leak\":true"), "chromedriver's profile: %s", json);
    cr_assert(strstr(json, "\"exit_status\":86"), "%s", json);
    free(json);
    free(out);
    /* without the gate, the same bot's status is its own */
    rc = run_bot(NULL, "tests/e2e/abandon_bot.py", leave, &out);
    cr_assert_eq(rc, 0, "run exited %d: %s", rc, out);
    free(out);
}

Test(audit, leak_gate_keeps_a_failing_command_s_status)
{
    const char *gate[] = {"--fail-on-leak", NULL};
    const char *crash[] = {"--loops", "3", "--interval", "0.1", "--crash-after", "1", NULL};
    char *out = NULL;
    int rc = run_bot(gate, "examples/selenium_bot.py", crash, &out);
    cr_assert_eq(rc, 1, "a bot that raised: run exited %d: %s", rc, out);
    free(out);
}

Test(audit, max_browsers_reaps_the_oldest_rounds)
{
    const char *opts[] = {"--max-browsers", "1", "--report", report, NULL};
    const char *args[] = {"--browsers", "3", "--wait-dead", "2", NULL};
    char *out = NULL, *check = NULL;
    int rc = run_bot(opts, "tests/e2e/abandon_bot.py", args, &out);
    /* the bot exits 0 only once two of its three drivers were killed under it */
    cr_assert_eq(rc, 0, "run exited %d: %s", rc, out);
    cr_assert(strstr(out, "dead 2 of 3"), "%s", out);
    cr_assert_eq(count(out, "circuit breaker (max-browsers: 2 live browsers, at most 1)"), 2, "%s", out);
    char *json = ts_slurp(report);
    cr_assert_eq(validate(report, &check), 0, "%s\n%s", check, json);
    cr_assert(strstr(json, "\"limits\":{\"max_browsers\":1,"), "%s", json);
    cr_assert_eq(count(json, "\"reason\":\"max-browsers\""), 2, "%s", json);
    /* rounds 0 and 1 went to the breaker, the newest lived to the end */
    cr_assert(strstr(json, "\"index\":0,\"root_pid\""), "%s", json);
    cr_assert_eq(count(json, "\"ended_by\":\"max-browsers\""), 2, "%s", json);
    cr_assert_eq(count(json, "\"ended_by\":\"session-ended\""), 1, "%s", json);
    free(json);
    free(check);
    free(out);
}

Test(audit, max_round_age_reaps_an_old_round)
{
    /* long enough for a browser to start on a loaded machine */
    const char *opts[] = {"--max-round-age", "15", "--report", report, NULL};
    const char *args[] = {"--browsers", "1", "--wait-dead", "1", NULL};
    char *out = NULL, *check = NULL;
    int rc = run_bot(opts, "tests/e2e/abandon_bot.py", args, &out);
    cr_assert_eq(rc, 0, "run exited %d: %s", rc, out);
    cr_assert(strstr(out, "dead 1 of 1"), "%s", out);
    cr_assert(strstr(out, "circuit breaker (max-round-age: older than 15 s)"), "%s", out);
    char *json = ts_slurp(report);
    cr_assert_eq(validate(report, &check), 0, "%s\n%s", check, json);
    cr_assert_eq(count(json, "\"reason\":\"max-round-age\""), 1, "%s", json);
    cr_assert(strstr(json, "\"ended_by\":\"max-round-age\""), "%s", json);
    cr_assert_geq(count(json, "\"outcome\":\"reaped-sigterm\"") + count(json, "\"outcome\":\"reaped-sigkill\""),
                  6, "%s", json);
    free(json);
    free(check);
    free(out);
}

/* Rows of `ls --tree` text whose ROLE column is `role` and STATE `state`. */
static int tree_rows(const char *text, const char *role, const char *state)
{
    int n = 0;
    char want[64];
    snprintf(want, sizeof want, " %-16s %-7s ", role, state);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), line);
        n += strstr(buf, want) != NULL;
        line = end ? end + 1 : NULL;
    }
    return n;
}

/* The /usr/bin/chromium script's uname, grep, expr... fold into one line. */
Test(audit, ls_tree_folds_the_launcher_script_helpers)
{
    char ready[300], log[300], session[64];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(log, sizeof log, "%s/run.log", outdir);
    snprintf(session, sizeof session, "crtest-audit-%d", (int)getpid());
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--",
                    "/usr/bin/python3", (char *)ts_source("examples/selenium_bot.py"), "--loops", "100000",
                    "--interval", "0.2", "--ready-file", ready, NULL};
    pid_t run = ts_spawn(argv, NULL, log);
    if (ts_wait_file(ready, 120) != 0) {
        ts_kill(run, SIGTERM);
        ts_waitpid(run, 30);
        cr_assert_fail("the bot never read its first page: %s", ts_slurp(log));
    }
    char *ls_folded[] = {(char *)ts_build("chromereaper"), "ls", "--session", session, "--tree", NULL};
    char *ls_all[] = {(char *)ts_build("chromereaper"), "ls", "--session", session, "--tree", "--helpers", NULL};
    char *folded = NULL, *all = NULL;
    int rc1 = ts_run(ls_folded, &folded), rc2 = ts_run(ls_all, &all);
    pid_t bot;
    cr_assert_eq(ts_read_pids(ready, &bot, 1), 1);
    ts_kill(bot, SIGTERM);
    int st = ts_waitpid(run, 60);
    cr_assert_eq(rc1, 0, "%s", folded);
    cr_assert_eq(rc2, 0, "%s", all);
    cr_assert_neq(st, -1);
    int helpers = tree_rows(all, "other", "exited") + tree_rows(all, "other", "reaped");
    cr_assert_geq(helpers, 5, "the launcher script's helpers, listed: %s", all);
    cr_assert(strstr(all, "/uname") || strstr(all, "/grep"), "%s", all);
    cr_assert_eq(tree_rows(folded, "other", "exited") + tree_rows(folded, "other", "reaped"), 0,
                 "helpers not folded: %s", folded);
    /* the folded lines count them all (and the script's subshells) */
    int folded_n = 0;
    for (const char *p = folded; (p = strstr(p, "finished helper")) != NULL; p++) {
        const char *open = p;
        while (open > folded && *open != '(')
            open--;
        folded_n += atoi(open + 1);
    }
    cr_assert_geq(folded_n, helpers, "%s", folded);
    cr_assert(strstr(folded, " uname") && strstr(folded, " grep"), "%s", folded);
    /* everything else is still there: the browser stack */
    cr_assert_eq(tree_rows(folded, "browser", "live"), tree_rows(all, "browser", "live"), "%s", folded);
    cr_assert_geq(tree_rows(folded, "renderer", "live"), 1, "%s", folded);
    free(folded);
    free(all);
}

/* examples/pytest_chromereaper.py on a suite of two Selenium tests: the one
 * that keeps its browser fails, with the session's tree in its failure;
 * the one that quits passes, though it runs after the leak. */
Test(audit, pytest_plugin_fails_the_test_that_leaks_and_only_it)
{
    char pythonpath[4200];
    snprintf(pythonpath, sizeof pythonpath, "PYTHONPATH=%s", ts_source("examples"));
    char bin[4200];
    snprintf(bin, sizeof bin, "CHROMEREAPER_BIN=%s", ts_build("chromereaper"));
    char *argv[] = {"/usr/bin/env", pythonpath, bin, (char *)ts_build("chromereaper"), "run", "--",
                    "/usr/bin/python3", "-m", "pytest", "-p", "pytest_chromereaper", "-p", "no:cacheprovider",
                    "-v", (char *)ts_source("tests/e2e/leaky_suite.py"), NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 1, "pytest exited %d (1: tests failed): %s", rc, out);
    cr_assert(strstr(out, "chromereaper: session "), "the plugin is not active: %s", out);
    cr_assert(strstr(out, "leaky_suite.py::test_forgets_its_browser FAILED"), "%s", out);
    cr_assert(strstr(out, "leaky_suite.py::test_quits_its_browser PASSED"), "%s", out);
    cr_assert(strstr(out, "1 failed, 1 passed"), "%s", out);
    cr_assert(strstr(out, "test_forgets_its_browser leaked: "), "%s", out);
    /* the tree: the forgotten driver's round, live */
    cr_assert(strstr(out, " --tree:"), "%s", out);
    cr_assert(strstr(out, "-- round 1: driver "), "%s", out);
    cr_assert(strstr(out, "/usr/bin/chromedriver"), "%s", out);
    free(out);
}

/* Preload mode: the watchdog takes the limits from the environment. */
Test(audit, watchdog_applies_max_browsers_from_the_environment)
{
    char log[300];
    snprintf(log, sizeof log, "%s/bot.log", outdir);
    char *argv[] = {"/usr/bin/python3", (char *)ts_source("tests/e2e/abandon_bot.py"), "--browsers", "2",
                    "--wait-dead", "1", NULL};
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    setenv("CHROMEREAPER_MAX_BROWSERS", "1", 1);
    setenv("CHROMEREAPER_REPORT", report, 1);
    pid_t bot = ts_spawn(argv, NULL, log);
    unsetenv("LD_PRELOAD");
    unsetenv("CHROMEREAPER_MAX_BROWSERS");
    unsetenv("CHROMEREAPER_REPORT");
    int st = ts_waitpid(bot, 200);
    char *out = ts_slurp(log);
    if (st == -1)
        ts_kill(bot, SIGKILL);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the bot: %#x: %s", st, out);
    cr_assert(strstr(out, "dead 1 of 2"), "%s", out);
    /* the watchdog writes the report once it has reaped the rest */
    cr_assert_eq(ts_wait_file(report, 60), 0, "no report: %s", out);
    char *json = ts_slurp(report), *check = NULL;
    cr_assert_eq(validate(report, &check), 0, "%s\n%s", check, json);
    cr_assert(strstr(json, "\"limits\":{\"max_browsers\":1,"), "%s", json);
    cr_assert_eq(count(json, "\"reason\":\"max-browsers\""), 1, "%s", json);
    cr_assert_eq(count(json, "\"ended_by\":\"max-browsers\""), 1, "%s", json);
    free(json);
    free(check);
    free(out);
}
