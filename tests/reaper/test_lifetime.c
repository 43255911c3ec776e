/* Sessions outlive their helpers: a bot that daemonizes keeps its session
 * (and the watchdog) alive; SIGKILL of run, of the watchdog, or of both
 * with the bot leaves nothing for good: run's own watchdog, or the next
 * session's sweep, takes over. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "browser.h"
#include "procfs.h"
#include "registry.h"
#include "support.h"

#define MAX_PIDS 16
#define BOUND_SEC 20.0

static char outdir[256], session[64], browser_out[300], made_dir[512];
static pid_t bot = -1, daemon_pid = -1;
static pid_t pids[MAX_PIDS];
static int npids;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "lifetime");
    snprintf(browser_out, sizeof browser_out, "%s/browser", outdir);
    session[0] = made_dir[0] = '\0';
    bot = daemon_pid = -1;
    npids = 0;
}

static void teardown(void)
{
    if (session[0]) {
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        ts_kill_session(session);
    }
    for (int i = 0; i < npids; i++)
        ts_kill(pids[i], SIGKILL);
    if (daemon_pid > 0)
        ts_kill(daemon_pid, SIGKILL);
    if (bot > 0) {
        ts_kill(bot, SIGKILL);
        ts_waitpid(bot, 10);
    }
    if (made_dir[0])
        ts_rm_rf(made_dir);
    ts_session_remove(session);
    ts_rm_rf(outdir);
}

TestSuite(lifetime, .init = setup, .fini = teardown, .timeout = 120);

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int registry_exists(const char *id)
{
    char shm[128];
    struct stat st;
    return registry_path(shm, sizeof shm, (uint32_t)getuid(), id) == 0 && stat(shm, &st) == 0;
}

/* The fixture browser's pids and directory, once it is ready in `dir`. */
static void read_browser(const char *dir)
{
    char ready[400], pidfile[400], dirfile[400];
    snprintf(ready, sizeof ready, "%s/ready", dir);
    snprintf(pidfile, sizeof pidfile, "%s/pids", dir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", dir);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    npids = ts_read_pids(pidfile, pids, MAX_PIDS);
    cr_assert_eq(npids, 5);
    char *made = ts_slurp(dirfile);
    cr_assert_not_null(made);
    snprintf(made_dir, sizeof made_dir, "%s", made);
    free(made);
}

static int browser_gone(void)
{
    struct stat st;
    for (int i = 0; i < npids; i++)
        if (ts_alive(pids[i]))
            return 0;
    return stat(made_dir, &st) != 0;
}

static int wait_session_gone(void)
{
    double t0 = now_sec();
    while ((!browser_gone() || registry_exists(session)) && now_sec() - t0 < BOUND_SEC)
        usleep(20000);
    return browser_gone() && !registry_exists(session);
}

static void assert_session_gone(void)
{
    int gone = wait_session_gone();
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived", pids[i]);
    struct stat st;
    cr_assert_neq(stat(made_dir, &st), 0, "%s leaked", made_dir);
    cr_assert(gone, "the registry outlived the session");
    session[0] = '\0';
}

/* A bot that forks, setsids and lets its first process exit: the session
 * lives on with the daemon, so the browser the daemon starts later is
 * tracked, and reaped when the daemon dies (today the watchdog reaped at
 * once when the root exited and removed the registry: the later browser
 * was untracked for good). */
Test(lifetime, a_daemonized_bot_keeps_its_session)
{
    char *argv[] = {(char *)ts_build("fixtures/daemon_bot"), outdir, NULL};
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    bot = ts_spawn(argv, NULL, NULL);
    unsetenv("LD_PRELOAD");
    char daemon_file[300], go[300];
    snprintf(daemon_file, sizeof daemon_file, "%s/daemon", outdir);
    snprintf(go, sizeof go, "%s/go", outdir);
    cr_assert_eq(ts_wait_file(daemon_file, 30), 0, "the bot never daemonized");
    cr_assert_eq(ts_read_pids(daemon_file, &daemon_pid, 1), 1);
    cr_assert_eq(tb_session_of_root(bot, session, sizeof session), 0, "no session for the bot");
    int st = ts_waitpid(bot, 30);
    bot = -1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the bot's first process: %#x", st);
    pid_t w = ts_watchdog_pid(session);
    cr_assert_gt(w, 0, "no watchdog once the root exited");

    FILE *f = fopen(go, "w");
    cr_assert_not_null(f);
    fclose(f);
    read_browser(browser_out);
    cr_assert(registry_exists(session), "the session's registry is gone while its daemon lives");
    pid_t live[64];
    int n = tb_session_live_pids(session, live, 64);
    for (int i = 0; i < npids; i++) {
        int listed = 0;
        for (int k = 0; k < n; k++)
            listed |= live[k] == pids[i];
        cr_assert(listed, "browser pid %d is not tracked by the session", pids[i]);
    }
    cr_assert_eq(ts_watchdog_pid(session), w, "the watchdog did not stay");

    cr_assert_eq(ts_kill(daemon_pid, SIGKILL), 0);
    daemon_pid = -1;
    assert_session_gone();
    for (int i = 0; i < 500 && ts_alive(w); i++)
        usleep(20000); /* it exits right after its reap */
    cr_assert_not(ts_alive(w), "the watchdog did not exit after the reap");
}

/* `run -- sh -c 'fake_chromium browser OUTDIR/browser & wait'`: the bot is
 * a shell, its browser a round of its own. */
static pid_t start_run_bot(void)
{
    cr_assert_eq(mkdir(browser_out, 0755), 0);
    snprintf(session, sizeof session, "crlife-%d-%ld", (int)getpid(), (long)time(NULL));
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), browser_out);
    char log[300];
    snprintf(log, sizeof log, "%s/run.log", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "0.3",
                    "--", "/bin/sh", "-c", script, NULL};
    pid_t run = ts_spawn(argv, NULL, log);
    read_browser(browser_out);
    return run;
}

/* The command of `run`: its child that runs the shell. */
static pid_t command_of(pid_t run)
{
    pid_t kids[32];
    int n = ts_descendants(run, kids, 32);
    for (int i = 0; i < n; i++) {
        struct proc_stat st;
        char exe[256];
        if (proc_stat_read(kids[i], &st) == 0 && st.ppid == run && proc_exe_read(kids[i], exe, sizeof exe) == 0 &&
            strstr(exe, "sh"))
            return kids[i];
    }
    return -1;
}

/* SIGKILL of run alone: its command dies with it, and run's watchdog reaps
 * the session (today the browser, its daemon and directory stayed). */
Test(lifetime, sigkill_of_run_is_taken_over_by_its_watchdog)
{
    bot = start_run_bot();
    pid_t cmd = command_of(bot);
    cr_assert_gt(cmd, 0, "no command under run");
    cr_assert_gt(ts_watchdog_pid(session), 0, "run left no watchdog");
    cr_assert_eq(ts_kill(bot, SIGKILL), 0);
    ts_waitpid(bot, 10);
    bot = -1;
    assert_session_gone();
    cr_assert_not(ts_alive(cmd), "run's command outlived run");
}

/* A stop timeout: SIGKILL to run's process group and to its command's. */
Test(lifetime, sigkill_of_run_and_its_bot_together_is_taken_over)
{
    bot = start_run_bot();
    pid_t cmd = command_of(bot);
    cr_assert_gt(cmd, 0, "no command under run");
    pid_t groups[2] = {getpgid(bot), getpgid(cmd)};
    cr_assert_eq(groups[0], bot, "run leads its own group (ts_spawn)");
    cr_assert_eq(kill(-groups[0], SIGKILL), 0);
    if (groups[1] != groups[0] && groups[1] == cmd)
        kill(-groups[1], SIGKILL);
    ts_waitpid(bot, 10);
    bot = -1;
    assert_session_gone();
}

/* A preload bot: a shell (the root) runs the fixture browser and waits.
 * `env` (NAME=VALUE pairs, NULL-terminated) is added for it. */
static void start_preload_bot(const char *const env[])
{
    cr_assert_eq(mkdir(browser_out, 0755), 0);
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), browser_out);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    for (int i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
    bot = ts_spawn(argv, NULL, NULL);
    unsetenv("LD_PRELOAD");
    for (int i = 0; env && env[i]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(strchr(env[i], '=') - env[i]), env[i]);
        unsetenv(name);
    }
    read_browser(browser_out);
    cr_assert_eq(tb_session_of_root(bot, session, sizeof session), 0, "no session for the shell");
}

static void kill_bot_group(void)
{
    cr_assert_eq(kill(-bot, SIGKILL), 0); /* ts_spawn made the bot a group leader */
    ts_waitpid(bot, 10);
    bot = -1;
}

/* SIGKILL of the preload watchdog, then of the bot: nobody is left to reap
 * the session, until the next session starts and sweeps it (the session
 * is made to look an hour old: young ones are left to their own watchdog). */
Test(lifetime, a_session_whose_watchdog_was_killed_is_swept_by_the_next_session)
{
    start_preload_bot(NULL);
    pid_t w = ts_watchdog_pid(session);
    cr_assert_gt(w, 0, "no watchdog");
    ts_remember(w);
    cr_assert_eq(ts_kill(w, SIGKILL), 0);
    kill_bot_group();
    struct cr_registry reg;
    cr_assert_eq(registry_open(&reg, (uint32_t)getuid(), session, 1, NULL, 0), CR_REG_OK);
    reg.hdr->created_unix = (uint64_t)time(NULL) - 3600;
    registry_close(&reg);
    /* the daemon (setsid, crashpad style) escaped the group kill */
    int left = 0;
    for (int i = 0; i < npids; i++)
        left += ts_alive(pids[i]);
    cr_assert_gt(left, 0, "nothing was left for the sweep");

    char next_session[80];
    snprintf(next_session, sizeof next_session, "%s-next", session);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", next_session, "--", "/bin/true", NULL};
    cr_assert_eq(ts_run(argv, NULL), 0);
    assert_session_gone();
}

/* The watchdog's reports go to CHROMEREAPER_LOG_FILE (today nowhere: its
 * stderr is /dev/null). */
Test(lifetime, the_watchdog_reports_to_the_log_file)
{
    char logfile[300], env_file[400];
    snprintf(logfile, sizeof logfile, "%s/watchdog.log", outdir);
    snprintf(env_file, sizeof env_file, "CHROMEREAPER_LOG_FILE=%s", logfile);
    const char *env[] = {"CHROMEREAPER_LOG=info", env_file, NULL};
    start_preload_bot(env);
    kill_bot_group();
    char expect[200];
    snprintf(expect, sizeof expect, "session %s: round of browser %d ended: ", session, (int)pids[0]);
    assert_session_gone();
    char *text = NULL;
    for (int i = 0; i < 500 && !(text && strstr(text, expect)); i++) {
        free(text);
        usleep(20000);
        text = ts_slurp(logfile);
    }
    cr_assert_not_null(text, "the watchdog wrote no log file");
    cr_assert_not_null(strstr(text, expect), "no \"%s\" in the log: %s", expect, text);
    /* the directory went with the round or with the session: the log says so */
    cr_assert(strstr(text, made_dir) || strstr(text, "1 directories removed"), "%s", text);
    free(text);
}

/* A container that shared /tmp and /dev/shm with the host, its `run` (PID 1)
 * SIGKILLed: the namespace is gone with every process in it, so `reap
 * --stale` removes the session's directory and registry (today: refused
 * for good, exit 3, "another PID namespace").  Only the initial PID
 * namespace sees every process, so only there can it tell. */
Test(lifetime, a_session_whose_pid_namespace_is_gone_is_reaped_by_reap_stale)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a PID namespace");
    if (registry_own_pidns() != 0xEFFFFFFCu)
        cr_skip_test("needs the initial PID namespace (make test runs there; /work/iso.sh does not)");
    /* `reap --stale` sweeps every stale session of the uid: in a /dev/shm
     * of this test's own, never those of tests running beside it */
    cr_assert_eq(unshare(CLONE_NEWNS), 0);
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    cr_assert_eq(mount("tmpfs", CR_REGISTRY_DIR, "tmpfs", 0, "mode=1777"), 0);
    cr_assert_eq(mkdir(browser_out, 0755), 0);
    snprintf(session, sizeof session, "crlife-ns-%d-%ld", (int)getpid(), (long)time(NULL));
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), browser_out);
    char *argv[] = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", (char *)ts_build("chromereaper"), "run",
                    "--session", session, "--", "/bin/sh", "-c", script, NULL};
    /* unshare says "sigprocmask unblock failed" when its child dies of
     * SIGKILL, as it does here: into a log, not the suite's output */
    char log[400];
    snprintf(log, sizeof log, "%s/unshare.log", browser_out);
    bot = ts_spawn(argv, NULL, log);
    char ready[400], dirfile[400];
    snprintf(ready, sizeof ready, "%s/ready", browser_out);
    snprintf(dirfile, sizeof dirfile, "%s/dir", browser_out);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    char *made = ts_slurp(dirfile);
    cr_assert_not_null(made);
    snprintf(made_dir, sizeof made_dir, "%s", made);
    free(made);
    /* its pids are the namespace's: npids stays 0, nothing of it is signalled by pid here */
    pid_t kids[32], init = -1;
    int n = ts_descendants(bot, kids, 32);
    for (int i = 0; i < n; i++) {
        struct proc_stat st;
        if (proc_stat_read(kids[i], &st) == 0 && st.ppid == bot)
            init = kids[i];
    }
    cr_assert_gt(init, 0, "no PID 1 under unshare");
    cr_assert_eq(ts_kill(init, SIGKILL), 0); /* the namespace dies with its init */
    ts_waitpid(bot, 30);
    bot = -1;
    double t0 = now_sec();
    while (ts_descendants(init, kids, 32) > 0 && now_sec() - t0 < BOUND_SEC)
        usleep(20000);
    struct stat st;
    cr_assert_eq(stat(made_dir, &st), 0, "the directory is there to be reaped");
    cr_assert(registry_exists(session), "the registry is there to be reaped");

    char *reap[] = {(char *)ts_build("chromereaper"), "reap", "--stale", NULL};
    char *out = NULL;
    int rc = ts_run(reap, &out);
    cr_assert_eq(rc, 0, "reap --stale exited %d: %s", rc, out);
    cr_assert_neq(stat(made_dir, &st), 0, "%s was not removed: %s", made_dir, out);
    cr_assert_not(registry_exists(session), "the registry was not removed: %s", out);
    free(out);
    session[0] = '\0';
}

/* Preload mode on a terminal at CHROMEREAPER_LOG=info: the watchdog's
 * reports reach the bot's terminal (today nothing did: its stderr is
 * /dev/null), though the watchdog holds no descriptor of it. */
Test(lifetime, preload_reports_reach_the_bots_terminal)
{
    int master, slave;
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    cr_assert_eq(mkdir(browser_out, 0755), 0);
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), browser_out);
    const char *lib = ts_build("libchromereaper.so");
    bot = fork();
    cr_assert_geq(bot, 0);
    if (bot == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setsid(); /* its own session and group: the group kill below is the bot's */
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
            _exit(120);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        close(master);
        setenv("LD_PRELOAD", lib, 1);
        setenv("CHROMEREAPER_LOG", "info", 1);
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    close(slave);
    ts_remember(bot);
    read_browser(browser_out);
    cr_assert_eq(tb_session_of_root(bot, session, sizeof session), 0, "no session for the shell");
    kill_bot_group();
    fcntl(master, F_SETFL, O_NONBLOCK);
    char expect[200];
    snprintf(expect, sizeof expect, "session %s", session);
    char seen[16384] = "";
    size_t len = 0;
    for (int i = 0; i < 750 && !strstr(seen, expect); i++) {
        ssize_t n = read(master, seen + len, sizeof seen - 1 - len);
        if (n > 0) {
            len += (size_t)n;
            seen[len] = '\0';
        } else {
            usleep(20000);
        }
    }
    close(master);
    cr_assert_not_null(strstr(seen, expect), "nothing of the watchdog on the terminal: [%s]", seen);
    assert_session_gone();
}
