/* The library listed in /etc/ld.so.preload: loaded into every program,
 * setuid ones included, and into the watchdog itself.  Each test runs its
 * programs in a private mount namespace whose /etc has an ld.so.preload
 * naming the library (an overlay over /etc; the real one is never
 * touched).
 *
 * - In secure execution (a setuid program run by another user) the library
 *   reads no CHROMEREAPER_* variable, starts no watchdog and runs nothing
 *   the environment names.
 * - A program with no session and no LD_PRELOAD naming the library stays
 *   passive: no session, no watchdog; so does the watchdog. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

static char tmp[256];
static pid_t last_pid;

static void setup(void)
{
    ts_tmpdir(tmp, sizeof tmp, "syspreload");
    chmod(tmp, 0755); /* the setuid program is run by another user */
}


static void teardown(void)
{
    /* whatever a failing test left running as our child (subreaper) */
    pid_t pid;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    char *kids = ts_slurp(path);
    for (char *p = kids; p && (pid = (pid_t)strtol(p, &p, 10)) > 0;)
        kill(pid, SIGKILL);
    free(kids);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    ts_remove_registries_of(65534, 0);
    ts_rm_rf(tmp);
}

TestSuite(shim_system_preload, .init = setup, .fini = teardown, .timeout = 60);

static const char *in_tmp(const char *name) { return ts_join(tmp, name); }

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* In the child: a private mount namespace whose /etc/ld.so.preload names
 * the library.  Returns 0 or an exit code. */
static int private_system_preload(void)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return 90;
    char opts[1200];
    snprintf(opts, sizeof opts, "lowerdir=/etc,upperdir=%s,workdir=%s", in_tmp("upper"),
             in_tmp("work"));
    if (mount("overlay", "/etc", "overlay", 0, opts) < 0)
        return 91;
    return 0;
}

/* Runs argv with exactly envp (as `uid` unless it is 0) under a
 * system-wide preload; stdout and stderr into tmp/out.  Returns the wait
 * status. */
static int run_system_preload(char *const argv[], char *const envp[], uid_t uid)
{
    cr_assert_eq(mkdir(in_tmp("upper"), 0755), 0);
    cr_assert_eq(mkdir(in_tmp("work"), 0755), 0);
    char line[600];
    snprintf(line, sizeof line, "%s\n", ts_build("libchromereaper.so"));
    write_file(in_tmp("upper/ld.so.preload"), line);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int rc = private_system_preload();
        if (rc)
            _exit(rc);
        int fd = open(in_tmp("out"), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        dup2(fd, 1);
        dup2(fd, 2);
        if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
            _exit(92);
        execve(argv[0], argv, envp);
        dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    last_pid = pid;
    int st = ts_waitpid(pid, 30);
    cr_assert_neq(st, -1, "%s did not finish", argv[0]);
    cr_assert(!WIFEXITED(st) || WEXITSTATUS(st) < 90 || WEXITSTATUS(st) > 92,
              "cannot set up the private /etc/ld.so.preload (step %d)", WEXITSTATUS(st));
    return st;
}

/* The test is a subreaper: a watchdog double-forked by a program it ran
 * becomes its child.  Is there one (running or exited)? */
static int any_child_left(void)
{
    return waitpid(-1, NULL, WNOHANG) >= 0;
}

Test(shim_system_preload, a_setuid_program_runs_nothing_the_environment_names)
{
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    /* a setuid-root copy of true(1), run by nobody */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp /bin/true %s && chmod 4755 %s", in_tmp("suid-true"),
             in_tmp("suid-true"));
    cr_assert_eq(system(cmd), 0);
    char reaper[600], marker[600], preload[600];
    snprintf(reaper, sizeof reaper, "CHROMEREAPER_REAPER=%s", ts_build("fixtures/fx_euid"));
    snprintf(marker, sizeof marker, "FX_MARKER=%s", in_tmp("marker"));
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", ts_build("libchromereaper.so"));
    char *envp[] = {reaper, marker, preload, "CHROMEREAPER_LOG=debug", "PATH=/usr/bin:/bin", NULL};
    char prog[600];
    snprintf(prog, sizeof prog, "%s", in_tmp("suid-true"));
    char *argv[] = {prog, NULL};
    int st = run_system_preload(argv, envp, 65534);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%#x: %s", st, ts_slurp(in_tmp("out")));
    int watchdog = any_child_left();
    /* what it started has run to its end (fx_euid exits at once) */
    for (int i = 0; watchdog && i < 100 && waitpid(-1, NULL, WNOHANG) >= 0; i++)
        usleep(50000);
    char *ran = ts_slurp(in_tmp("marker"));
    cr_expect_null(ran, "the binary CHROMEREAPER_REAPER names was run: %s", ran);
    free(ran);
    cr_expect_not(watchdog, "a watchdog was started");
    cr_expect_eq(ts_remove_registries_of(65534, 0), 0, "a registry was created");
    char *out = ts_slurp(in_tmp("out"));
    cr_expect_str_eq(out ? out : "", "", "the setuid program printed something");
    free(out);
}

/* A registry of nobody's, made by nobody. */
static void create_registry_as(uid_t uid, const char *id)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct cr_registry reg;
        if (setgid(uid) < 0 || setuid(uid) < 0)
            _exit(1);
        _exit(registry_create(&reg, id, 64, 4) == CR_REG_OK ? 0 : 2);
    }
    int st = ts_waitpid(pid, 10);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cannot create a registry as %u", (unsigned)uid);
}

/* The setuid program is given a session of the user who runs it: it must
 * not take it (CHROMEREAPER_SESSION is the caller's word, and the program
 * runs with root's rights). */
Test(shim_system_preload, a_setuid_program_joins_no_session)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp /bin/true %s && chmod 4755 %s", in_tmp("suid-true"),
             in_tmp("suid-true"));
    cr_assert_eq(system(cmd), 0);
    char id[64], session[128];
    snprintf(id, sizeof id, "crtest-%d-suid", (int)getpid());
    create_registry_as(65534, id);
    snprintf(session, sizeof session, "CHROMEREAPER_SESSION=%s", id);
    char *envp[] = {session, "PATH=/usr/bin:/bin", NULL};
    char prog[600];
    snprintf(prog, sizeof prog, "%s", in_tmp("suid-true"));
    char *argv[] = {prog, NULL};
    int st = run_system_preload(argv, envp, 65534);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%#x: %s", st, ts_slurp(in_tmp("out")));
    struct cr_registry reg;
    char why[200] = "";
    cr_assert_eq(registry_open(&reg, 65534, id, 0, why, sizeof why), CR_REG_OK, "%s", why);
    uint32_t n = registry_entry_count(&reg);
    registry_close(&reg);
    registry_unlink(65534, id);
    cr_expect_eq(n, 0, "the setuid program recorded itself in the caller's session");
}

Test(shim_system_preload, a_program_outside_any_session_stays_passive)
{
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char *envp[] = {"PATH=/usr/bin:/bin", "HOME=/root", NULL};
    char *argv[] = {"/usr/bin/env", NULL};
    int st = run_system_preload(argv, envp, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%#x", st);
    int watchdog = any_child_left();
    cr_expect_eq(ts_remove_registries_of(getuid(), last_pid), 0, "env(1) became a session root");
    cr_expect_not(watchdog, "a watchdog was started");
    char *out = ts_slurp(in_tmp("out"));
    cr_expect_str_eq(out ? out : "", "PATH=/usr/bin:/bin\nHOME=/root\n");
    free(out);
}

/* The watchdog runs without LD_PRELOAD and the cookie: loaded system-wide,
 * the library in it must not make it the root of a session of its own
 * (which would start another watchdog, and so on). */
Test(shim_system_preload, the_watchdog_starts_no_session)
{
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char *envp[] = {"PATH=/usr/bin:/bin", NULL};
    char *argv[] = {(char *)ts_build("chromereaper"), "watch", "--session", "crtest-no-such-session", NULL};
    run_system_preload(argv, envp, 0);
    int watchdog = any_child_left();
    cr_expect_eq(ts_remove_registries_of(getuid(), last_pid), 0, "the watchdog became a session root");
    cr_expect_not(watchdog, "the watchdog started another watchdog");
}
