/* chromereaper doctor on a dirty machine (tests/reaper/doctor_machine.sh,
 * in private PID and mount namespaces): real chromium leaked the way a dead
 * bot leaves it (adopted by init), a bystander chromium, a live session's
 * adopted chromium, another uid's leak, a program named chromium, a stale
 * session, leftover directories and look-alikes.
 * The listing names exactly the leaks; --fix --dry-run touches nothing;
 * --fix kills and removes exactly them; JSON is one valid document, the
 * text is in human units, coloured on a terminal unless NO_COLOR. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

static char out[512];

static void setup(void)
{
    snprintf(out, sizeof out, "%s", ts_build("test-out/doctor-XXXXXX"));
    char parent[512];
    snprintf(parent, sizeof parent, "%s", ts_build("test-out"));
    mkdir(parent, 0755);
    cr_assert_not_null(mkdtemp(out));
}

static void teardown(void)
{
    ts_rm_rf(out);
}

TestSuite(doctor, .init = setup, .fini = teardown, .timeout = 240);

static char *result(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", out, name);
    char *text = ts_slurp(path);
    return text ? text : strdup("");
}

static int read_pid(const char *name)
{
    char *text = result(name);
    int pid = atoi(text);
    free(text);
    return pid;
}

/* 1 if the JSON text lists process `pid` (`"pid":N,` starts each). */
static int lists_pid(const char *json, int pid)
{
    char needle[64];
    snprintf(needle, sizeof needle, "{\"pid\":%d,", pid);
    return strstr(json, needle) != NULL;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

Test(doctor, finds_and_fixes_exactly_the_leaks_on_a_dirty_machine)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for private PID and mount namespaces");
    /* a cgroup namespace too: wherever the suite runs (a CI service's
     * cgroup), the machine's processes are in none */
    char *argv[] = {"unshare", "--pid", "--fork", "--mount-proc", "--cgroup", "--propagation", "private", "/bin/sh",
                    (char *)ts_source("tests/reaper/doctor_machine.sh"), (char *)ts_build("chromereaper"),
                    (char *)ts_build("libchromereaper.so"), (char *)ts_build("fixtures/reexec_helper"), out,
                    NULL};
    char *log = NULL;
    ts_run(argv, &log);
    char *done = result("done");
    cr_assert_str_eq(done, "done\n", "the machine script did not finish: %s", log ? log : "");
    free(done);
    free(log);
    int leak = read_pid("leak.pid"), bystander = read_pid("bystander.pid"), live = read_pid("live.pid");
    int fake = read_pid("fake.pid"), nobody = read_pid("nobody.pid");
    cr_assert(leak > 0 && bystander > 0 && live > 0 && fake > 0 && nobody > 0,
              "browsers: leak %d, bystander %d, live %d, fake %d, another uid's %d", leak, bystander, live, fake,
              nobody);

    char *valid = result("valid-json");
    cr_assert_str_eq(valid, "young\nlist\ndry\nfix\nafter\n", "not valid JSON: %s", valid);
    free(valid);

    /* by default only what is an hour old: nothing here is */
    char *young = result("young.json");
    cr_assert_not_null(strstr(young, "\"processes\":[],\"directories\":[]"), "%s", young);
    free(young);

    char *list = result("list.json"), *rc = result("list.rc");
    cr_assert_str_eq(rc, "1\n", "a listing with leaks exits 1");
    free(rc);
    cr_assert(lists_pid(list, leak), "the leaked browser %d is not listed: %s", leak, list);
    cr_assert_not_null(strstr(list, "\"why\":\"parent is init; driver gone\""), "%s", list);
    cr_assert_not_null(strstr(list, "\"role\":\"crashpad\""), "its crash handlers are not listed: %s", list);
    cr_assert_not_null(strstr(list, "\"role\":\"zygote\""), "its zygotes are not listed: %s", list);
    cr_assert_not(lists_pid(list, bystander), "the bystander is listed: %s", list);
    cr_assert_not(lists_pid(list, live), "a live session's browser is listed: %s", list);
    cr_assert_not(lists_pid(list, fake), "a program named chromium is listed: %s", list);
    cr_assert_not(lists_pid(list, nobody), "another uid's browser is listed: %s", list);
    static const char *const leftovers[] = {
        "\"path\":\"/tmp/puppeteer_dev_chrome_profile-leak\",\"kind\":\"Puppeteer profile\"",
        "\"path\":\"/tmp/org.chromium.Chromium.scoped_dir.old\",\"kind\":\"chromedriver profile\"",
        "\"path\":\"/tmp/playwright-artifacts-old\",\"kind\":\"Playwright artifacts\"",
    };
    for (size_t i = 0; i < sizeof leftovers / sizeof *leftovers; i++)
        cr_assert_not_null(strstr(list, leftovers[i]), "missing %s: %s", leftovers[i], list);
    static const char *const not_leftovers[] = {
        "Chromium.other", "Chromium.link", "unrelated", "com.google.Chrome.file", "bystander-profile",
        "playwright_chromiumdev_profile-live", "Chromium.cwdused", "playwright-artifacts-fdused", "nobody-home",
    };
    for (size_t i = 0; i < sizeof not_leftovers / sizeof *not_leftovers; i++)
        cr_assert_null(strstr(list, not_leftovers[i]), "%s is listed: %s", not_leftovers[i], list);
    cr_assert_not_null(strstr(list, "\"sessions\":[{\"session\":"), "the stale session is not listed: %s", list);

    /* text: human units, colour on a terminal, none with NO_COLOR */
    char *tty = result("list.tty"), *plain = result("list.nocolor");
    cr_assert_not_null(strstr(tty, "\033[1m"), "no colour on a terminal: %s", tty);
    cr_assert_not_null(strstr(tty, "MiB"), "%s", tty);
    cr_assert_not_null(strstr(tty, " s ago"), "%s", tty);
    cr_assert_null(strstr(plain, "\033["), "colour despite NO_COLOR: %s", plain);
    cr_assert_not_null(strstr(plain, "To clean up: chromereaper doctor --fix"), "%s", plain);
    free(tty);
    free(plain);

    /* the dry run plans and touches nothing */
    char *dry = result("dry.json"), *alive_after_dry = result("leak-after-dry");
    cr_assert_not_null(strstr(dry, "\"outcome\":\"planned\""), "%s", dry);
    cr_assert_not_null(strstr(dry, "\"action\":\"planned\""), "%s", dry);
    cr_assert_str_eq(alive_after_dry, "alive\n", "the dry run killed the leak");
    free(dry);
    free(alive_after_dry);

    char *fix = result("fix.json"), *fix_rc = result("fix.rc");
    cr_assert_str_eq(fix_rc, "0\n", "--fix left something: %s", fix);
    cr_assert_not_null(strstr(fix, "\"action\":\"removed\""), "%s", fix);
    cr_assert_not_null(strstr(fix, "\"action\":\"reaped\""), "%s", fix);
    cr_assert_null(strstr(fix, "\"outcome\":\"survived\""), "%s", fix);
    free(fix_rc);

    /* crash handlers: exactly the listed ones (the leak's) are gone */
    char *before = result("crashpads-before"), *after_fix = result("crashpads-after");
    int listed = 0, kept = 0;
    for (char *line = strtok(before, "\n"); line; line = strtok(NULL, "\n")) {
        char own[32];
        snprintf(own, sizeof own, "%s", line);
        int is_listed = lists_pid(list, atoi(own));
        listed += is_listed;
        kept += !is_listed;
        cr_assert_eq(has_line(after_fix, own), !is_listed, "crash handler %s: listed %d, alive after %d", own,
                     is_listed, has_line(after_fix, own));
    }
    cr_assert_gt(listed, 0, "no crash handler of the leak was listed");
    cr_assert_gt(kept, 0, "no crash handler of the others was seen");
    free(before);
    free(after_fix);
    free(list);

    char *alive = result("alive");
    cr_assert_str_eq(alive, "bystander\nlive\nfake\nnobody\n", "alive after --fix: %s", alive);
    free(alive);
    char *tmp = result("tmp-after");
    for (size_t i = 0; i < sizeof not_leftovers / sizeof *not_leftovers; i++)
        if (strcmp(not_leftovers[i], "Chromium.other") && strcmp(not_leftovers[i], "Chromium.link"))
            cr_assert(strstr(tmp, not_leftovers[i]), "%s was removed: %s", not_leftovers[i], tmp);
    cr_assert(has_line(tmp, "org.chromium.Chromium.other") && has_line(tmp, "org.chromium.Chromium.link") &&
                  has_line(tmp, "keep"),
              "another uid's directory or a symlink was touched: %s", tmp);
    cr_assert_not(has_line(tmp, "puppeteer_dev_chrome_profile-leak") ||
                      has_line(tmp, "org.chromium.Chromium.scoped_dir.old") || has_line(tmp, "playwright-artifacts-old"),
                  "a leftover stayed: %s\n--fix said: %s", tmp, fix);
    free(fix);
    free(tmp);
    /* the live session's registry stays, the stale one is gone */
    char *shm_before = result("shm-before"), *shm_after = result("shm-after");
    cr_assert_eq(count_lines(shm_before), 2, "registries before: %s", shm_before);
    cr_assert_eq(count_lines(shm_after), 1, "registries after: %s", shm_after);
    cr_assert(has_line(shm_before, strtok(shm_after, "\n")), "the live session's registry went: %s", shm_after);
    free(shm_before);
    free(shm_after);

    char *after = result("after.json"), *after_rc = result("after.rc");
    cr_assert_not_null(strstr(after, "\"processes\":[],\"directories\":[],\"sessions\":[]"), "%s", after);
    cr_assert_str_eq(after_rc, "0\n");
    free(after);
    free(after_rc);
}
