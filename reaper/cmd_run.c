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
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "procfs.h"
#include "reap.h"
#include "registry.h"
#include "report.h"
#include "safestr.h"

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
        {0, 0, 0, 0},
    };
    char session[CR_SESSION_MAX] = "";
    const char *metrics_path = NULL;
    struct reap_options ro = {.grace_sec = 2.0};
    int c;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
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
        struct reap_result r;
        int leftovers = reap_session(&s, &ro, &r);
        metrics_reaped(&metrics, &r, 0);
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
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
