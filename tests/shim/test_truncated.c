/* The registry changing under a reader: a same-uid process truncates (or
 * extends) a session's registry while the host program, `run` or the
 * watchdog has it mapped.  None of them crashes: the host goes on
 * untracked with one warning; `run` and the watchdog still reap by cookie
 * and descent, and `run` keeps the command's exit status. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "registry.h"
#include "support.h"

#define BROWSER_PIDS 5

static char tmp[256], session[64];
static pid_t host = -1;
static pid_t browser[BROWSER_PIDS];
static int nbrowser;

static void setup(void)
{
    ts_tmpdir(tmp, sizeof tmp, "truncated");
    session[0] = '\0';
    host = -1;
    nbrowser = 0;
    cr_assert_eq(mkfifo(ts_join(tmp, "go"), 0600), 0);
}

static void teardown(void)
{
    if (host > 0) {
        kill(-host, SIGKILL);
        ts_waitpid(host, 10);
    }
    for (int i = 0; i < nbrowser; i++)
        ts_kill(browser[i], SIGKILL);
    /* fake_chromium's temp dir, which a reap by cookie cannot know */
    char *dir = ts_slurp(ts_join(tmp, "dir"));
    if (dir)
        ts_rm_rf(dir);
    free(dir);
    if (session[0]) {
        ts_kill_session(session);
        ts_session_remove(session);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    ts_rm_rf(tmp);
}

TestSuite(registry_changed, .init = setup, .fini = teardown, .timeout = 120);

/* Resizes the session's registry file to `size` bytes. */
static void resize_registry(const char *id, off_t size)
{
    char path[256];
    cr_assert_eq(registry_path(path, sizeof path, (uint32_t)getuid(), id), 0);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s", path);
    cr_assert_eq(ftruncate(fd, size), 0);
    close(fd);
}

/* Waits until the script sits in its `read x < go` (its library long
 * set up), and returns the fifo's write end: writing a line lets it go
 * on. */
static int wait_reader(pid_t pid)
{
    int fd = -1;
    for (int i = 0; i < 3000 && fd < 0 && ts_alive(pid); i++) {
        fd = open(ts_join(tmp, "go"), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            usleep(10000);
    }
    cr_assert_geq(fd, 0, "the script never got to its read");
    return fd;
}

static void release(int fd)
{
    cr_assert_eq(write(fd, "\n", 1), 1);
    close(fd);
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

/* The host: a shell of the session that waits for the test before it
 * runs /bin/true, so that what the test does to the registry meanwhile
 * falls between two of its records.  Returns what releases it. */
static int host_waiting(void)
{
    char script[600];
    snprintf(script, sizeof script, "read x < %s/go; /bin/true; echo done", tmp);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    host = ts_spawn(argv, session, ts_join(tmp, "out"));
    return wait_reader(host);
}

/* Releases the host and waits for it, which must exit 0; its output. */
static char *host_finished(int go)
{
    release(go);
    int st = ts_waitpid(host, 30);
    host = -1;
    char *text = ts_slurp(ts_join(tmp, "out"));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the host died (%#x): %s", st, text);
    return text;
}

static void host_after_resize(off_t size)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    registry_close(&reg);
    int go = host_waiting();
    resize_registry(session, size);
    char *text = host_finished(go);
    cr_expect_not_null(strstr(text ? text : "", "done"), "%s", text);
    cr_expect_leq(count(text, "chromereaper:"), 1, "more than one warning: %s", text);
    free(text);
}

Test(registry_changed, the_host_survives_a_truncated_registry)
{
    host_after_resize(0);
    char *text = ts_slurp(ts_join(tmp, "out"));
    cr_expect_eq(count(text, "chromereaper:"), 1, "no warning: %s", text);
    free(text);
}

Test(registry_changed, the_host_survives_an_extended_registry)
{
    host_after_resize(64 << 20);
}

/* Records of session `id` whose exe is `exe`. */
static int records_of(const char *id, const char *exe)
{
    struct cr_registry reg;
    cr_assert_eq(registry_open(&reg, (uint32_t)getuid(), id, 0, NULL, 0), CR_REG_OK);
    int n = 0;
    struct cr_entry e;
    for (uint32_t i = 0; i < registry_entry_count(&reg); i++)
        if (registry_entry_read(&reg, i, &e) && strcmp(e.exe, exe) == 0)
            n++;
    registry_close(&reg);
    return n;
}

/* The library's quick check asks whether the registry's last page is still
 * in the file; a page that is merely not resident (swapped out, or a hole
 * punched in it, as here) is no truncation: the host goes on tracked, with
 * no warning. */
Test(registry_changed, a_hole_in_the_last_page_is_no_truncation)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    size_t size = reg.map_size;
    registry_close(&reg);
    int go = host_waiting();
    int fd = open(ts_registry_file((uint32_t)getuid(), session), O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    off_t last = (off_t)((size - 1) / 4096 * 4096);
    cr_assert_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, last, (off_t)size - last), 0);
    close(fd);
    char *text = host_finished(go);
    cr_expect_eq(count(text, "chromereaper:"), 0, "a warning: %s", text);
    cr_expect_eq(records_of(session, "/bin/true"), 1, "the exec after the hole was not recorded");
    free(text);
}

/* A fixture browser started in the background by the script, and its
 * processes once it is ready. */
static void browser_ready(void)
{
    cr_assert_eq(ts_wait_file(ts_join(tmp, "ready"), 30), 0, "the fixture browser never got ready");
    nbrowser = ts_read_pids(ts_join(tmp, "pids"), browser, BROWSER_PIDS);
    cr_assert_eq(nbrowser, BROWSER_PIDS);
}

static void assert_browser_reaped(const char *log)
{
    for (int i = 0; i < nbrowser; i++)
        cr_expect_not(ts_alive(browser[i]), "browser process %d was left running: %s", (int)browser[i],
                      log ? log : "");
}

/* `run`: the command's status survives, and its browser is reaped. */
Test(registry_changed, run_keeps_the_exit_status_and_reaps)
{
    snprintf(session, sizeof session, "crtest-%d-trunc", (int)getpid());
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & read x < %s/go; /bin/true; exit 7",
             ts_build("fixtures/fake_chromium"), tmp, tmp);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "1",
                    "--", "/bin/sh", "-c", script, NULL};
    const char *out = ts_join(tmp, "out");
    host = ts_spawn(argv, NULL, out);
    browser_ready();
    int go = wait_reader(host);
    resize_registry(session, 0);
    release(go);
    int st = ts_waitpid(host, 60);
    host = -1;
    char *text = ts_slurp(out);
    cr_assert(WIFEXITED(st), "run died (%#x): %s", st, text);
    cr_expect_eq(WEXITSTATUS(st), 7, "run lost the command's exit status: %s", text);
    assert_browser_reaped(text);
    free(text);
}

/* The watchdog of a preload root: it reaps the root's browser when the
 * root dies, and exits normally.  The test is a subreaper: the watchdog
 * and the orphaned browser become its children. */
Test(registry_changed, the_watchdog_reaps_and_exits)
{
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & read x < %s/go; exit 0",
             ts_build("fixtures/fake_chromium"), tmp, tmp);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    host = ts_spawn(argv, NULL, ts_join(tmp, "out"));
    unsetenv("LD_PRELOAD");
    browser_ready();
    cr_assert_eq(tb_session_of_root(host, session, sizeof session), 0, "no session for the root");
    pid_t watchdog = ts_watchdog_pid(session);
    cr_assert_gt(watchdog, 0, "no watchdog");
    int go = wait_reader(host);
    resize_registry(session, 0);
    release(go);
    int st = ts_waitpid(host, 30);
    host = -1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the root died (%#x)", st);
    st = ts_waitpid(watchdog, 60);
    cr_assert_neq(st, -1, "the watchdog did not finish");
    cr_expect(WIFEXITED(st), "the watchdog died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    assert_browser_reaped(NULL);
}
