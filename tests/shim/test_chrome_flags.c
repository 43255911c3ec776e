/* CHROMEREAPER_CHROME_FLAGS: off by default; when set, the switches are
 * appended to the command line of the browser's main process only (its
 * helpers carry --type=), once, and `ls` shows them.  With the fixture
 * browser, then with real chromium. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"
#include "fixture.h"
#include "support.h"

#define FLAGS "--disable-dev-shm-usage --renderer-process-limit=2"
static struct tf_run f;

static void setup(void)
{
    tf_init(&f, "chromeflags");
}

static void teardown(void)
{
    tf_cleanup(&f);
}

TestSuite(chrome_flags, .init = setup, .fini = teardown, .timeout = 120);

/* How many arguments of pid's command line are exactly `arg`. */
static int count_arg(pid_t pid, const char *arg)
{
    char buf[16384];
    size_t len;
    cr_assert_eq(proc_file_read(pid, "cmdline", buf, sizeof buf, &len), 0, "pid %d is gone", (int)pid);
    int n = 0;
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
        n += strcmp(buf + i, arg) == 0;
    return n;
}

static char *ls_json(void)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "ls", "--session", f.session, "--json", NULL};
    char *out = NULL;
    cr_assert_eq(ts_run(argv, &out), 0, "ls failed: %s", out ? out : "");
    return out;
}

/* Runs the fixture browser in a new session, with `flags` in its
 * environment when not NULL. */
static void start_fixture(const char *flags)
{
    struct cr_registry reg;
    ts_session_create(f.session, sizeof f.session, &reg);
    registry_close(&reg);
    char *argv[] = {(char *)ts_build("fixtures/fake_chromium"), "browser", f.outdir, NULL};
    if (flags)
        setenv("CHROMEREAPER_CHROME_FLAGS", flags, 1);
    f.started = ts_spawn(argv, f.session, NULL);
    unsetenv("CHROMEREAPER_CHROME_FLAGS");
    tf_read_fixture(&f);
}

Test(chrome_flags, appended_to_the_main_process_only)
{
    start_fixture(FLAGS " https://example.org --type=gpu-process");
    /* pids: the browser, two forked helpers, the exec'd renderer, the daemon */
    cr_assert_eq(count_arg(f.pids[0], "--disable-dev-shm-usage"), 1);
    cr_assert_eq(count_arg(f.pids[0], "--renderer-process-limit=2"), 1);
    cr_assert_eq(count_arg(f.pids[0], "https://example.org"), 0, "a positional argument was added");
    cr_assert_eq(count_arg(f.pids[0], "--type=gpu-process"), 0, "--type= was added");
    cr_assert_eq(count_arg(f.pids[3], "--type=renderer"), 1);
    cr_assert_eq(count_arg(f.pids[3], "--disable-dev-shm-usage"), 0, "the renderer got the flags");
    cr_assert_eq(count_arg(f.pids[4], "--disable-dev-shm-usage"), 0, "the crash handler got the flags");
    char *out = ls_json();
    cr_assert_not_null(strstr(out, "\"chrome_flags\":\"" FLAGS "\""), "ls does not show the flags: %s", out);
    free(out);
}

Test(chrome_flags, off_by_default)
{
    start_fixture(NULL);
    char buf[4096];
    size_t len;
    cr_assert_eq(proc_file_read(f.pids[0], "cmdline", buf, sizeof buf, &len), 0);
    char want[512];
    int wlen = snprintf(want, sizeof want, "chromium%cbrowser%c%s", 0, 0, f.outdir) + 1;
    cr_assert_eq(len, (size_t)wlen, "the command line changed");
    cr_assert_eq(memcmp(buf, want, len), 0, "the command line changed");
    char *out = ls_json();
    cr_assert_null(strstr(out, "\"chrome_flags\":\"-"), "%s", out);
    free(out);
}

/* Is pid a chromium process, by its executable? */
static int is_chromium(pid_t pid)
{
    char exe[4096];
    return proc_exe_read(pid, exe, sizeof exe) == 0 && strstr(exe, "/chromium/chromium") != NULL;
}

/* Real chromium through Debian's /usr/bin/chromium script, under `run`:
 * the script is the first program with the library, and it execs the real
 * binary, the browser's main process.  A child the browser has forked and
 * not yet exec'd is a copy of it (same executable, same command line, no
 * --type=): the main process is the one whose parent is not chromium. */
Test(chrome_flags, real_chromium_main_process)
{
    snprintf(f.session, sizeof f.session, "crtest-flags-%d", (int)getpid());
    char udd[300], udd_arg[320], log[300], port[320];
    snprintf(udd, sizeof udd, "%s/profile", f.outdir);
    snprintf(udd_arg, sizeof udd_arg, "--user-data-dir=%s", udd);
    snprintf(log, sizeof log, "%s/chromium.log", f.outdir);
    snprintf(port, sizeof port, "%s/DevToolsActivePort", udd);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", f.session, "--",
                    "/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--remote-debugging-port=0", udd_arg, "about:blank", NULL};
    setenv("CHROMEREAPER_CHROME_FLAGS", FLAGS, 1);
    setenv("TMPDIR", f.outdir, 1); /* Chrome's singleton directory goes there */
    f.started = ts_spawn(argv, NULL, log);
    unsetenv("CHROMEREAPER_CHROME_FLAGS");
    unsetenv("TMPDIR");
    cr_assert_eq(ts_wait_file(port, 60), 0, "chromium did not start (see %s)", log);
    pid_t kids[256];
    int n = ts_descendants(f.started, kids, 256), mains = 0, helpers = 0;
    for (int i = 0; i < n; i++) {
        if (!is_chromium(kids[i]))
            continue;
        char buf[16384];
        size_t len;
        struct proc_stat st;
        if (proc_file_read(kids[i], "cmdline", buf, sizeof buf, &len) < 0 || proc_stat_read(kids[i], &st) < 0)
            continue;
        if (memmem(buf, len, "--type=", 7) || is_chromium(st.ppid)) {
            helpers++;
            continue;
        }
        mains++;
        cr_assert_eq(count_arg(kids[i], "--disable-dev-shm-usage"), 1, "pid %d", (int)kids[i]);
        cr_assert_eq(count_arg(kids[i], "--renderer-process-limit=2"), 1, "pid %d", (int)kids[i]);
    }
    cr_assert_eq(mains, 1, "%d browser main processes", mains);
    cr_assert_gt(helpers, 0, "no zygote or renderer seen");
    char *out = ls_json();
    cr_assert_not_null(strstr(out, "\"role\":\"browser\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"chrome_flags\":\"" FLAGS "\""), "ls does not show the flags: %s", out);
    free(out);
    ts_kill(f.started, SIGTERM);
    int st = ts_waitpid(f.started, 60);
    f.started = -1;
    cr_assert_neq(st, -1, "run did not exit after SIGTERM");
    f.session[0] = '\0';
}
