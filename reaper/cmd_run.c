/* chromereaper run -- CMD: start CMD under the shim in a fresh session, as a
 * subreaper (double-forked daemons such as chrome_crashpad_handler are
 * reparented to us, not init), forward signals to it, and reap the session
 * when it exits.  One loop over sigtimedwait, as tini does.
 *
 * The signal model is dumb-init's: CMD runs in a process group of its own,
 * so a signal sent to run's group (a CI runner cancelling) reaches run
 * alone, and run forwards every signal it receives to CMD's group exactly
 * once.  With a terminal (run's group in its foreground), CMD's group gets
 * the foreground, as tini does, so Ctrl-C and Ctrl-Z go to CMD directly;
 * when CMD stops on the terminal, run takes the terminal back and stops too,
 * so the shell sees its job stopped, as sudo does. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "history.h"
#include "session_limits.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "procfs.h"
#include "reap.h"
#include "registry.h"
#include "report.h"
#include "report_json.h"
#include "safestr.h"
#include "settle.h"

/* Every signal is forwarded but these (tini's list): faults of run's own,
 * the two it cannot catch, and the terminal's job-control stops of a
 * background process, which run ignores. */
static const int not_forwarded[] = {SIGFPE, SIGILL,  SIGSEGV, SIGBUS,  SIGABRT, SIGTRAP,
                                    SIGSYS, SIGKILL, SIGSTOP, SIGTTIN, SIGTTOU};

static int is_fatal(int sig)
{
    return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
}

/* The shim: $CHROMEREAPER_LIBRARY, else next to this binary (build tree),
 * else ../lib/chromereaper/ (installed layout). */
static int find_library(char out[PATH_MAX])
{
    const char *env = getenv("CHROMEREAPER_LIBRARY");
    if (env && *env)
        return realpath(env, out) ? 0 : -1;
    char self[PATH_MAX];
    if (proc_exe_read(0, self, sizeof self) < 0)
        return -1;
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    const char *candidates[] = {"/libchromereaper.so", "/../lib/chromereaper/libchromereaper.so"};
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s%s", self, candidates[i]);
        if (access(path, R_OK) == 0 && realpath(path, out))
            return 0;
    }
    return -1;
}

/* Run's signal state, restored in CMD before it starts. */
struct saved_signals {
    sigset_t mask;
    struct sigaction ttin, ttou;
};

/* CMD in a group of its own, in the terminal's foreground when run had it;
 * it dies with run (as a kill of run's group killed it before it had a
 * group of its own), and the watchdog reaps what it leaves. */
static void exec_child(char **cmd, const char *library, const char *session,
                       const struct saved_signals *saved, int tty, pid_t parent)
{
    setpgid(0, 0);
    if (tty >= 0)
        tcsetpgrp(tty, getpid()); /* SIGTTOU is still ignored here */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(128 + SIGKILL);
    sigaction(SIGTTIN, &saved->ttin, NULL);
    sigaction(SIGTTOU, &saved->ttou, NULL);
    sigprocmask(SIG_SETMASK, &saved->mask, NULL);
    const char *old = getenv("LD_PRELOAD");
    char preload[PATH_MAX * 2];
    if (old && *old)
        snprintf(preload, sizeof preload, "%s %s", library, old);
    else
        snprintf(preload, sizeof preload, "%s", library);
    setenv("LD_PRELOAD", preload, 1);
    setenv("CHROMEREAPER_SESSION", session, 1);
    execvp(cmd[0], cmd);
    fprintf(stderr, "chromereaper: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

static double monotonic_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* run's own watchdog (`watch --supervisor-fd 3`, 3 a pidfd on run): if run
 * is killed, it takes over and reaps the session once the command is gone
 * too.  Detached like the preload mode's: its own session, stdio on
 * /dev/null, no other fd of run's, no library, no cookie.  Returns its pid
 * (run, the subreaper, adopts it when the middle process exits), or -1. */
static pid_t start_watchdog(const char *session, const struct saved_signals *saved)
{
    char self[PATH_MAX], tty[128] = "";
    int raw = (int)syscall(SYS_pidfd_open, getpid(), 0);
    /* above stdio, which the child replaces first */
    int pidfd = raw >= 0 ? fcntl(raw, F_DUPFD_CLOEXEC, 3) : -1;
    if (raw >= 0)
        close(raw);
    if (isatty(STDERR_FILENO) && ttyname_r(STDERR_FILENO, tty, sizeof tty) != 0)
        tty[0] = '\0';
    if (pidfd < 0 || proc_exe_read(0, self, sizeof self) < 0) {
        log_msg(LOG_WARN, "session %s: no watchdog (%s): if run is killed, run `chromereaper reap --stale`",
                session, strerror(errno));
        if (pidfd >= 0)
            close(pidfd);
        return -1;
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        close(pidfd);
        return -1;
    }
    pid_t first = fork();
    if (first == 0) {
        setsid();
        pid_t watchdog = fork();
        if (watchdog != 0) {
            ssize_t ignored = write(pipefd[1], &watchdog, sizeof watchdog);
            (void)ignored;
            _exit(0);
        }
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
            dup2(pidfd, 3) < 0 || fcntl(3, F_SETFD, 0) < 0 || chdir("/") < 0)
            _exit(126);
        close_range(4, ~0u, 0);
        unsetenv("LD_PRELOAD");
        unsetenv("CHROMEREAPER_SESSION");
        sigaction(SIGTTIN, &saved->ttin, NULL);
        sigaction(SIGTTOU, &saved->ttou, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (tty[0])
            execl(self, "chromereaper", "watch", "--session", session, "--supervisor-fd", "3",
                  "--terminal", tty, (char *)NULL);
        else
            execl(self, "chromereaper", "watch", "--session", session, "--supervisor-fd", "3", (char *)NULL);
        _exit(127);
    }
    close(pidfd);
    close(pipefd[1]);
    pid_t watchdog = -1;
    if (first < 0 || read(pipefd[0], &watchdog, sizeof watchdog) != (ssize_t)sizeof watchdog)
        watchdog = -1;
    close(pipefd[0]);
    if (first > 0)
        waitpid(first, NULL, 0);
    return watchdog;
}

/* run reaped the session itself: its watchdog has nothing to take over.
 * Released (SIGUSR1; it finishes its sweep of other sessions first) and
 * waited for, so that no watchdog of the session outlives run.  Only while
 * it is still run's unreaped child: its pid cannot be another's then. */
static void release_watchdog(pid_t watchdog)
{
    if (watchdog <= 0 || waitpid(watchdog, NULL, WNOHANG) != 0)
        return;
    kill(watchdog, SIGUSR1);
    while (waitpid(watchdog, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Sends `sig` to CMD's process group, or to CMD alone if it left it. */
static void forward(pid_t child, int sig)
{
    if (getpgid(child) == child)
        kill(-child, sig);
    else
        kill(child, sig);
}

/* CMD stopped on the terminal (Ctrl-Z, or it read it from the background):
 * run stops too, holding the terminal, so the shell sees its job stopped.
 * Continued by `fg` (the terminal is run's group's again), run hands the
 * terminal back to CMD; by `bg`, it only continues CMD. */
static void stop_with_child(pid_t child, int tty)
{
    tcsetpgrp(tty, getpgrp());
    kill(getpid(), SIGSTOP); /* returns once continued; as PID 1 it never stops */
    if (tcgetpgrp(tty) == getpgrp())
        tcsetpgrp(tty, child);
    forward(child, SIGCONT);
}

static int terminal_stop(int status)
{
    int sig = WSTOPSIG(status);
    return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Reaps every exited child (the orphans run adopted too); returns 1 when
 * `child` is among them. */
static int reap_zombies(pid_t child, int *status, int tty)
{
    int found = 0, st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG | WUNTRACED)) > 0) {
        if (pid != child)
            continue;
        if (WIFSTOPPED(st)) {
            if (tty >= 0 && terminal_stop(st))
                stop_with_child(child, tty);
            continue;
        }
        *status = st;
        found = 1;
    }
    return found;
}

/* How often the supervisor looks for driver rounds that ended. */
#define TICK_SEC 0.2

/* Waits for CMD, forwarding signals, and reaps each driver round as it
 * ends; after a fatal signal, CMD has `grace` seconds before it is killed.
 * Returns CMD's wait status. */
static int supervise(pid_t child, const sigset_t *set, double grace, struct monitor *mon, int tty)
{
    double deadline = 0;
    int status = 0;
    for (;;) {
        double wait = TICK_SEC;
        if (deadline > 0) {
            double left = deadline - monotonic_sec();
            if (left <= 0) {
                log_msg(LOG_WARN, "the command did not exit %.1f s after the signal: sending SIGKILL",
                        grace);
                kill(child, SIGKILL);
                deadline = 0;
            } else if (left < wait) {
                wait = left;
            }
        }
        struct timespec ts = {0, (long)(wait * 1e9)};
        siginfo_t info;
        int sig = sigtimedwait(set, &info, &ts);
        if (sig < 0) {
            if (errno != EAGAIN && errno != EINTR)
                log_msg(LOG_ERROR, "sigtimedwait: %s", strerror(errno));
        } else if (sig != SIGCHLD) {
            /* CMD is never in run's group: nothing it got reached CMD too */
            forward(child, sig);
            if (is_fatal(sig) && deadline == 0)
                deadline = monotonic_sec() + grace;
        }
        if (reap_zombies(child, &status, tty))
            return status;
        monitor_tick(mon);
    }
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"session", required_argument, 0, 's'},
        {"grace", required_argument, 0, 'g'},
        {"metrics-file", required_argument, 0, 'm'},
        {"report", required_argument, 0, 'r'},
        {"fail-on-leak", no_argument, 0, 'F'},
        {"max-browsers", required_argument, 0, 'L'},
        {"max-round-age", required_argument, 0, 'L'},
        {"max-rss", required_argument, 0, 'L'},
        {0, 0, 0, 0},
    };
    char session[CR_SESSION_MAX] = "";
    const char *metrics_path = NULL;
    struct reap_options ro = {.grace_sec = 2.0};
    const char *report_path = NULL;
    int fail_on_leak = 0, c, opt_index = 0;
    struct limits limits = {0};
    while ((c = getopt_long(argc, argv, "+", opts, &opt_index)) != -1) {
        switch (c) {
        case 'r': report_path = optarg; break;
        case 'F': fail_on_leak = 1; break;
        case 'L':
            if (limits_parse(&limits, opts[opt_index].name, optarg) < 0)
                return EXIT_USAGE;
            break;
        case 's':
            if (!session_id_valid(optarg)) {
                fprintf(stderr, "chromereaper: invalid session id '%s' ([A-Za-z0-9._-], at most 63)\n", optarg);
                return EXIT_USAGE;
            }
            cr_strlcpy(session, optarg, sizeof session);
            break;
        case 'g':
            if (parse_seconds(optarg, &ro.grace_sec) < 0) {
                fprintf(stderr, "chromereaper: --grace takes seconds from 0 to 3600\n");
                return EXIT_USAGE;
            }
            break;
        case 'm': metrics_path = optarg; break;
        default: usage(); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "chromereaper: run needs a command: chromereaper run -- CMD [ARG...]\n");
        return EXIT_USAGE;
    }
    char library[PATH_MAX];
    if (find_library(library) < 0) {
        fprintf(stderr, "chromereaper: cannot find libchromereaper.so (set CHROMEREAPER_LIBRARY)\n");
        return EXIT_USAGE;
    }
    if (!session[0] && session_id_generate(session, sizeof session) < 0) {
        fprintf(stderr, "chromereaper: cannot make a session id: %s\n", strerror(errno));
        return EXIT_REGISTRY;
    }
    struct cr_registry reg;
    enum cr_registry_status st =
        registry_create(&reg, session, CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT);
    if (st == CR_REG_EXISTS) {
        fprintf(stderr, "chromereaper: session %s exists already\n", session);
        return EXIT_REGISTRY;
    }
    int have_registry = st == CR_REG_OK;
    if (!have_registry)
        log_msg(LOG_WARN, "cannot create a registry in " CR_REGISTRY_DIR " (%s): session %s is "
                "tracked by its cookie and as descendants only", strerror(errno), session);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_msg(LOG_WARN, "cannot become a subreaper: %s", strerror(errno));

    sigset_t set;
    struct saved_signals saved;
    sigfillset(&set);
    for (size_t i = 0; i < sizeof not_forwarded / sizeof *not_forwarded; i++)
        sigdelset(&set, not_forwarded[i]);
    sigprocmask(SIG_BLOCK, &set, &saved.mask);
    /* run touches the terminal from the background (handing it over and
     * back, its report): never stopped for that */
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigaction(SIGTTIN, &ignore, &saved.ttin);
    sigaction(SIGTTOU, &ignore, &saved.ttou);
    int tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp() ? STDIN_FILENO : -1;
    pid_t self = getpid();

    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "chromereaper: fork: %s\n", strerror(errno));
        if (have_registry) {
            registry_close(&reg);
            registry_unlink((uint32_t)getuid(), session);
        }
        return EXIT_REGISTRY;
    }
    if (child == 0) {
        if (!have_registry)
            setenv("CHROMEREAPER_WARNED", "1", 1); /* we said it; the shim need not */
        exec_child(argv + optind, library, session, &saved, tty, self);
    }
    setpgid(child, child); /* also here: no signal may find it in run's group */
    struct proc_stat ps;
    if (have_registry && proc_stat_read(child, &ps) == 0)
        registry_set_root(&reg, child, ps.start_time);
    if (have_registry)
        registry_close(&reg);
    log_msg(LOG_INFO, "session %s: running %s as pid %d", session, argv[optind], (int)child);
    pid_t watchdog = have_registry ? start_watchdog(session, &saved) : -1;

    struct metrics metrics;
    metrics_init(&metrics, metrics_path, session, (uint32_t)getuid());
    struct monitor mon;
    if (monitor_init(&mon, session, (uint32_t)getuid(), ro.grace_sec) < 0 && have_registry)
        log_msg(LOG_ERROR, "session %s: cannot watch the registry", session);
    mon.metrics = &metrics;
    struct history hist;
    history_init(&hist, report_path != NULL);
    mon.history = &hist;
    mon.limits = &limits;
    if (fail_on_leak || report_path)
        mon.round_settle_sec = SETTLE_SEC;
    int status = supervise(child, &set, ro.grace_sec, &mon, tty);
    ro.seen = &mon.seen;
    if (tty >= 0 && tcgetpgrp(tty) == child)
        tcsetpgrp(tty, getpgrp()); /* the terminal is the shell's job's again */

    struct session s;
    char why[160];
    int loaded = have_registry && session_load(&s, (uint32_t)getuid(), session, 1, why, sizeof why) == CR_REG_OK;
    if (have_registry && !loaded)
        log_msg(LOG_WARN, "session %s: %s: reaping by cookie and descendants only", session, why);
    if (!loaded)
        session_cookie_only(&s, (uint32_t)getuid(), session);
    {
        if (fail_on_leak || report_path)
            session_settle(&s, SETTLE_SEC);
        history_observe(&hist, &s);
        struct reap_result r;
        int leftovers = reap_session(&s, &ro, &r);
        metrics_reaped(&metrics, &r, 0);
        history_reap(&hist, &r, REASON_SESSION_ENDED, NULL);
        /* quiet when there was nothing to clean up */
        int touched = reap_count(&r, OUTCOME_TERMINATED) + reap_count(&r, OUTCOME_KILLED) +
                          reap_count_dirs(&r, DIR_REMOVED) > 0;
        if (log_enabled(LOG_INFO))
            report_text(stderr, &r);
        else if (leftovers ? log_enabled(LOG_ERROR) : (touched && log_enabled(LOG_WARN)))
            report_summary(stderr, &r);
        reap_result_free(&r);
        session_free(&s);
    }
    char shm[128];
    struct stat sb;
    if (registry_path(shm, sizeof shm, (uint32_t)getuid(), session) < 0 || stat(shm, &sb) < 0)
        release_watchdog(watchdog);
    monitor_free(&mon);
    int ignored;
    reap_zombies(0, &ignored, -1);
    history_finish(&hist);
    int rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    if (fail_on_leak && rc == 0 && hist.leaked_procs + hist.leaked_dirs > 0) {
        log_msg(LOG_ERROR, "session %s: the command succeeded but leaked %zu browser processes and "
                "%zu directories (--fail-on-leak): exit status %d", session, hist.leaked_procs,
                hist.leaked_dirs, EXIT_LEAKED);
        rc = EXIT_LEAKED;
    }
    if (report_path) {
        struct report_meta meta = {.session = session, .mode = "run", .argv = argv + optind,
                                   .root_pid = child, .have_status = 1, .wait_status = status,
                                   .exit_status = rc, .fail_on_leak = fail_on_leak, .limits = &limits};
        if (report_json_write(report_path, &hist, &meta) < 0)
            log_msg(LOG_ERROR, "session %s: cannot write the report %s: %s", session, report_path,
                    strerror(errno));
    }
    history_free(&hist);
    return rc;
}
