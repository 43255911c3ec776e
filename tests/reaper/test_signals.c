/* Signals under `run`: the command runs in a process group of its own (in
 * the terminal's foreground when run had it), and every signal run receives
 * reaches it exactly once, whether it was sent to run, to run's process
 * group (how CI runners cancel), or typed on the terminal.  As PID 1 of a
 * PID namespace, run behaves like tini. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "support.h"

#define BOUND_SEC 20.0

static char outdir[256], session[64];
static pid_t run = -1, probe = -1, ns_init = -1;
static int master = -1;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "signals");
    snprintf(session, sizeof session, "crsig-%d-%ld", (int)getpid(), (long)time(NULL));
    run = probe = ns_init = -1;
    master = -1;
}

static void teardown(void)
{
    if (ns_init > 0)
        ts_kill(ns_init, SIGKILL); /* the whole namespace with it */
    if (probe > 0)
        ts_kill(probe, SIGKILL);
    if (run > 0) {
        ts_kill(run, SIGKILL);
        ts_waitpid(run, 10);
    }
    if (master >= 0)
        close(master);
    ts_session_remove(session);
    ts_rm_rf(outdir);
}

TestSuite(signals, .init = setup, .fini = teardown, .timeout = 120);

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How many lines of OUTDIR/signals name `sig`. */
static int times_received(int sig)
{
    char path[300];
    snprintf(path, sizeof path, "%s/signals", outdir);
    char *text = ts_slurp(path);
    int n = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
        n += atoi(line) == sig;
    free(text);
    return n;
}

static int wait_received(int sig, double max_sec)
{
    double t0 = now_sec();
    while (times_received(sig) == 0 && now_sec() - t0 < max_sec)
        usleep(10000);
    return times_received(sig);
}

/* 1 if `sig` is pending for `pid` (its thread's or its process's set). */
static int signal_pending(pid_t pid, int sig)
{
    char buf[4096];
    size_t len;
    if (proc_file_read(pid, "status", buf, sizeof buf, &len) < 0)
        return 0;
    buf[len < sizeof buf ? len : sizeof buf - 1] = '\0';
    const char *keys[] = {"\nSigPnd:", "\nShdPnd:"};
    for (int i = 0; i < 2; i++) {
        const char *p = strstr(buf, keys[i]);
        if (p && (strtoull(p + strlen(keys[i]), NULL, 16) >> (sig - 1)) & 1)
            return 1;
    }
    return 0;
}

static char proc_state(pid_t pid)
{
    struct proc_stat st;
    return proc_stat_read(pid, &st) == 0 ? st.state : '?';
}

static int wait_state(pid_t pid, char state, double max_sec)
{
    double t0 = now_sec();
    while (proc_state(pid) != state && now_sec() - t0 < max_sec)
        usleep(10000);
    return proc_state(pid) == state;
}

static void wait_probe_ready(void)
{
    char ready[300], pidfile[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(pidfile, sizeof pidfile, "%s/pid", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the probe never got ready");
    cr_assert_eq(ts_read_pids(pidfile, &probe, 1), 1);
}

/* Ends the probe through run (USR2: it exits 0) and returns run's status.
 * Everything run forwarded before USR2 reached the probe before it. */
static int finish_through_run(void)
{
    /* run dequeues its signals one at a time: once nothing is pending in
     * run, whatever it received was forwarded before USR2 will be */
    for (int i = 0; i < 500 && (signal_pending(run, SIGTERM) || signal_pending(run, SIGINT) ||
                                signal_pending(run, SIGHUP)); i++)
        usleep(10000);
    cr_assert_eq(kill(run, SIGUSR2), 0);
    int st = ts_waitpid(run, 30);
    run = -1;
    return st;
}

/* `run -- signal_probe OUTDIR EXTRA...` into argv (16 slots). */
static void run_argv(char *argv[16], const char *const extra[], int nextra)
{
    char *head[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "60",
                    "--", (char *)ts_build("fixtures/signal_probe"), outdir};
    int n = 0;
    for (; n < 9; n++)
        argv[n] = head[n];
    for (int i = 0; i < nextra && n < 15; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
}

static pid_t start_run(const char *const extra[], int nextra)
{
    char *argv[16];
    run_argv(argv, extra, nextra);
    char log[300];
    snprintf(log, sizeof log, "%s/run.log", outdir);
    return ts_spawn(argv, NULL, log);
}

/* `kill -TERM -- -PGID` of run's group: the command gets SIGTERM once (today
 * it got it from the kernel as a member of the group, and again from run). */
Test(signals, a_process_group_signal_reaches_the_command_once)
{
    run = start_run(NULL, 0);
    wait_probe_ready();
    cr_assert_eq(kill(-run, SIGTERM), 0); /* ts_spawn made run a group leader */
    cr_assert_geq(wait_received(SIGTERM, BOUND_SEC), 1, "SIGTERM never reached the command");
    int st = finish_through_run();
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run's status %#x", st);
    cr_assert_eq(times_received(SIGTERM), 1, "the command got SIGTERM %d times", times_received(SIGTERM));
}

/* A signal sent to run alone reaches the command once too. */
Test(signals, a_signal_to_run_reaches_the_command_once)
{
    run = start_run(NULL, 0);
    wait_probe_ready();
    cr_assert_eq(kill(run, SIGHUP), 0);
    cr_assert_geq(wait_received(SIGHUP, BOUND_SEC), 1, "SIGHUP never reached the command");
    int st = finish_through_run();
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run's status %#x", st);
    cr_assert_eq(times_received(SIGHUP), 1);
}

/* run on a pseudo-terminal, as a shell would start it: the session leader
 * of the terminal's session, its group in the foreground. */
static pid_t start_run_on_pty(const char *const extra[], int nextra)
{
    int slave;
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    char log[300];
    snprintf(log, sizeof log, "%s/run.log", outdir);
    char *argv[16];
    run_argv(argv, extra, nextra);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setsid();
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
            _exit(120);
        dup2(slave, 0);
        dup2(slave, 1);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd >= 0 ? fd : slave, 2);
        close(master);
        execv(argv[0], argv);
        _exit(127);
    }
    close(slave);
    ts_remember(pid);
    return pid;
}

static void type_on_terminal(char c)
{
    cr_assert_eq(write(master, &c, 1), 1);
}

/* Ctrl-C on the terminal reaches the command although it moved itself into
 * a process group of its own (today it never did: the terminal signalled
 * run's group, and run, taking the signal for one the command had seen
 * too, did not forward it). */
Test(signals, ctrl_c_reaches_a_command_in_its_own_process_group)
{
    const char *extra[] = {"own-group"};
    run = start_run_on_pty(extra, 1);
    wait_probe_ready();
    type_on_terminal(3); /* ^C */
    cr_assert_geq(wait_received(SIGINT, BOUND_SEC), 1, "Ctrl-C never reached the command");
    int st = finish_through_run();
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run's status %#x", st);
    cr_assert_eq(times_received(SIGINT), 1, "the command got SIGINT %d times", times_received(SIGINT));
}

/* The model on a terminal: the command's group is the foreground group
 * (Ctrl-C goes to it, and not to run); Ctrl-Z stops the command, and run
 * then takes the terminal back and stops itself, so the shell sees its job
 * stopped; continued, run gives the terminal back and continues the
 * command. */
Test(signals, on_a_terminal_the_command_is_the_foreground_job)
{
    run = start_run_on_pty(NULL, 0);
    wait_probe_ready();
    cr_assert_eq(tcgetpgrp(master), getpgid(probe), "the command's group is not the foreground group");
    cr_assert_neq(getpgid(probe), getpgid(run), "the command shares run's process group");
    type_on_terminal(26); /* ^Z */
    cr_assert(wait_state(probe, 'T', BOUND_SEC), "Ctrl-Z did not stop the command");
    cr_assert(wait_state(run, 'T', BOUND_SEC), "run did not stop with its command");
    cr_assert_eq(tcgetpgrp(master), getpgid(run), "run did not take the terminal back");
    /* what the shell's `fg` does: continue the job's group (run's) */
    cr_assert_eq(kill(-getpgid(run), SIGCONT), 0);
    cr_assert(wait_state(probe, 'S', BOUND_SEC), "the command was not continued");
    cr_assert_eq(tcgetpgrp(master), getpgid(probe), "the command did not get the terminal back");
    type_on_terminal(3);
    cr_assert_geq(wait_received(SIGINT, BOUND_SEC), 1, "Ctrl-C never reached the command");
    int st = finish_through_run();
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "run's status %#x", st);
    cr_assert_eq(times_received(SIGINT), 1);
}

/* Live children of `parent` (by /proc PPid) that are zombies. */
static int zombie_children(pid_t parent)
{
    pid_t kids[64];
    int n = ts_descendants(parent, kids, 64), zombies = 0;
    for (int i = 0; i < n; i++) {
        struct proc_stat st;
        if (proc_stat_read(kids[i], &st) == 0 && st.ppid == parent && st.state == 'Z')
            zombies++;
    }
    return zombies;
}

/* `chromereaper run` as PID 1 of a new PID namespace, as in a container:
 * orphans that exit are reaped, a SIGTERM from outside reaches the command
 * (which ignores it), the command is killed after the grace, and run exits
 * with its status, 128+9. */
Test(signals, as_pid_1_it_reaps_orphans_forwards_and_exits_with_the_status)
{
    if (geteuid() != 0)
        cr_skip_test("needs root for a PID namespace");
    char log[300];
    snprintf(log, sizeof log, "%s/run.log", outdir);
    char *argv[] = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc",
                    (char *)ts_build("chromereaper"), "run", "--session", session, "--grace", "1",
                    "--", (char *)ts_build("fixtures/signal_probe"), outdir, "ignore-term", "orphans",
                    NULL};
    pid_t unshare = ts_spawn(argv, NULL, log);
    run = unshare; /* teardown kills what it can reach */
    char ready[300], orphans[300];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(orphans, sizeof orphans, "%s/orphans", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the command never got ready: %s", ts_slurp(log));
    pid_t kids[8];
    cr_assert_eq(ts_descendants(unshare, kids, 8) >= 1, 1);
    pid_t init = -1;
    for (int i = 0; i < 8 && init < 0; i++) {
        struct proc_stat st;
        if (proc_stat_read(kids[i], &st) == 0 && st.ppid == unshare)
            init = kids[i];
    }
    cr_assert_gt(init, 0, "no PID 1 under unshare");
    ns_init = init;
    pid_t local[4];
    cr_assert_eq(ts_read_pids(orphans, local, 4), 3);
    /* the orphans exited: their zombies are PID 1's to reap */
    double t0 = now_sec();
    while (zombie_children(init) > 0 && now_sec() - t0 < BOUND_SEC)
        usleep(10000);
    cr_assert_eq(zombie_children(init), 0, "PID 1 left zombies");
    /* a window resize of the container's terminal reaches the command too */
    cr_assert_eq(kill(init, SIGWINCH), 0);
    cr_assert_geq(wait_received(SIGWINCH, BOUND_SEC), 1, "SIGWINCH never reached the command");
    cr_assert_eq(kill(init, SIGTERM), 0);
    int st = ts_waitpid(unshare, 60);
    run = -1;
    char *text = ts_slurp(log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL, "status %#x: %s", st, text);
    cr_assert_eq(times_received(SIGTERM), 0, "the command ignores SIGTERM");
    free(text);
}
