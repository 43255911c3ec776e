/* chromereaper run -- CMD: start CMD under the shim in a fresh session, as a
 * subreaper (double-forked daemons such as chrome_crashpad_handler are
 * reparented to us, not init), forward signals to it, and reap the session
 * when it exits.  One loop over sigtimedwait, as tini does. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

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

static void exec_child(char **cmd, const char *library, const char *session, const sigset_t *mask)
{
    sigprocmask(SIG_SETMASK, mask, NULL);
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

/* Reaps every exited child; returns 1 when `child` is among them. */
static int reap_zombies(pid_t child, int *status)
{
    int found = 0, st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid == child) {
            *status = st;
            found = 1;
        }
    }
    return found;
}

/* How often the supervisor looks for driver rounds that ended. */
#define TICK_SEC 0.2

/* Waits for CMD, forwarding signals, and reaps each driver round as it
 * ends; after a fatal signal, CMD has `grace` seconds before it is killed.
 * Returns CMD's wait status. */
static int supervise(pid_t child, const sigset_t *set, double grace, struct monitor *mon)
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
            /* a terminal's signal already reached CMD through the process group */
            if (info.si_code != SI_KERNEL)
                kill(child, sig);
            if (is_fatal(sig) && deadline == 0)
                deadline = monotonic_sec() + grace;
        }
        if (reap_zombies(child, &status))
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

    sigset_t set, old;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);

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
        exec_child(argv + optind, library, session, &old);
    }
    struct proc_stat ps;
    if (have_registry && proc_stat_read(child, &ps) == 0)
        registry_set_root(&reg, child, ps.start_time);
    if (have_registry)
        registry_close(&reg);
    log_msg(LOG_INFO, "session %s: running %s as pid %d", session, argv[optind], (int)child);

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
    int status = supervise(child, &set, ro.grace_sec, &mon);
    ro.seen = &mon.seen;

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
    monitor_free(&mon);
    int ignored;
    reap_zombies(0, &ignored);
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
