/* chromereaper watch --session ID: the watchdog.  The shim in a session's
 * root process starts it (preload mode), and so does `run` (detached, no
 * inherited fds but, from run, a pidfd on run itself).  It first sweeps the
 * uid's stale sessions.  Under run it only waits for run to die: if run did
 * not reap the session (it was killed), the watchdog takes over.  It reaps
 * each driver round as it ends, and the whole session once the root and
 * every other process of the bot's side (a daemon the bot forked) are dead,
 * however they die; then it exits.  Its reports go to the log (log.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "commands.h"
#include "launcher.h"
#include "history.h"
#include "session_limits.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "procfs.h"
#include "reap.h"
#include "report.h"
#include "report_json.h"
#include "safestr.h"
#include "settle.h"
#include "sweep.h"

#define TICK_MS 200

/* A pidfd on the session's root (its pid in *root_pid), or -1 if it is
 * already gone. */
static int pin_root(uint32_t uid, const char *session, pid_t *root_pid)
{
    struct cr_registry reg;
    if (registry_open(&reg, uid, session, 0, NULL, 0) != CR_REG_OK)
        return -1;
    pid_t pid = __atomic_load_n(&reg.hdr->root_pid, __ATOMIC_ACQUIRE);
    uint64_t start = reg.hdr->root_start_time;
    registry_close(&reg);
    *root_pid = pid;
    if (pid <= 0)
        return -1;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct proc_stat st;
    if (fd >= 0 && (proc_stat_read(pid, &st) < 0 || st.start_time != start || st.state == 'Z')) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* CHROMEREAPER_REPORT for preload mode: a relative path is the root's
 * (the watchdog runs in /), and the root's command line is read while the
 * root lives. */
struct watch_report {
    char path[PATH_MAX];
    char cmdline[8192];
    char *argv[128];
};

static void watch_report_init(struct watch_report *w, pid_t root)
{
    const char *env = getenv("CHROMEREAPER_REPORT");
    if (!env || !*env)
        return;
    if (env[0] == '/') {
        cr_strlcpy(w->path, env, sizeof w->path);
    } else {
        char link[64], cwd[PATH_MAX];
        ssize_t n = -1;
        if (proc_path(link, sizeof link, root, "cwd") == 0)
            n = readlink(link, cwd, sizeof cwd - 1);
        if (n < 0) {
            log_msg(LOG_ERROR, "CHROMEREAPER_REPORT=%s: cannot read the bot's working directory", env);
            return;
        }
        cwd[n] = '\0';
        cr_strlcpy(w->path, cwd, sizeof w->path);
        cr_strlcat(w->path, "/", sizeof w->path);
        if (cr_strlcat(w->path, env, sizeof w->path) >= sizeof w->path)
            w->path[0] = '\0'; /* too long: no report rather than one in the wrong place */
    }
    size_t len = 0, k = 0;
    if (proc_file_read(root, "cmdline", w->cmdline, sizeof w->cmdline, &len) < 0)
        len = 0;
    for (size_t i = 0; i < len && k + 1 < sizeof w->argv / sizeof *w->argv; i += strlen(w->cmdline + i) + 1)
        w->argv[k++] = w->cmdline + i;
    w->argv[k] = NULL;
}

static void watch_report_finish(struct watch_report *w, struct history *h, const char *session,
                                pid_t root, const struct limits *limits)
{
    history_finish(h);
    if (w->path[0]) {
        struct report_meta meta = {.session = session, .mode = "watch", .argv = w->argv,
                                   .root_pid = root, .exit_status = -1, .limits = limits};
        if (report_json_write(w->path, h, &meta) < 0)
            log_msg(LOG_ERROR, "session %s: cannot write the report %s: %s", session, w->path,
                    strerror(errno));
    }
    history_free(h);
}

static void released(int sig) { (void)sig; }

/* Blocks until the process behind `pidfd` (run) has exited (returns 1), or
 * run, having reaped the session itself, releases us with SIGUSR1 (0). */
static int wait_for_exit(int pidfd, const sigset_t *unblocked)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int n = ppoll(&p, 1, NULL, unblocked);
    int released = n < 0 && errno == EINTR;
    close(pidfd);
    return !released;
}

int cmd_watch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"session", required_argument, 0, 's'},
        {"grace", required_argument, 0, 'g'},
        {"metrics-file", required_argument, 0, 'm'},
        {"supervisor-fd", required_argument, 0, 'S'},
        {"terminal", required_argument, 0, 't'},
        {0, 0, 0, 0},
    };
    const char *session = NULL, *terminal = NULL;
    const char *metrics_path = getenv("CHROMEREAPER_METRICS_FILE"); /* preload mode's way */
    double grace = 2.0;
    uint64_t supervisor = 0;
    int has_supervisor = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': session = optarg; break;
        case 't': terminal = optarg; break;
        case 'S':
            if (cr_parse_u64(optarg, &supervisor) < 0 || supervisor > 1024) {
                fprintf(stderr, "chromereaper: --supervisor-fd takes a file descriptor\n");
                return EXIT_USAGE;
            }
            has_supervisor = 1;
            break;
        case 'g':
            if (parse_seconds(optarg, &grace) < 0) {
                fprintf(stderr, "chromereaper: --grace takes seconds from 0 to 3600\n");
                return EXIT_USAGE;
            }
            break;
        case 'm': metrics_path = optarg; break;
        default: usage(); return EXIT_USAGE;
        }
    }
    if (!session || optind != argc || !session_id_valid(session)) {
        fprintf(stderr, "chromereaper: watch needs --session ID\n");
        return EXIT_USAGE;
    }
    if (!isatty(STDERR_FILENO))
        log_detached(terminal); /* started detached: stderr is /dev/null */
    uint32_t uid = (uint32_t)getuid();
    sigset_t usr1, unblocked;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    if (has_supervisor) {
        /* run's release waits until the sweep is done */
        struct sigaction sa = {.sa_handler = released};
        sigaction(SIGUSR1, &sa, NULL);
        sigprocmask(SIG_BLOCK, &usr1, &unblocked);
        sigdelset(&unblocked, SIGUSR1);
    }
    sweep_stale_sessions(uid, session);
    if (has_supervisor) {
        if (!wait_for_exit((int)supervisor, &unblocked))
            return EXIT_DONE; /* released: run reaped the session */
        char path[128];
        struct stat st;
        if (registry_path(path, sizeof path, uid, session) < 0 || stat(path, &st) < 0)
            return EXIT_DONE; /* run reaped it */
        log_msg(LOG_WARN, "session %s: its supervisor died: the watchdog takes over", session);
    }
    pid_t root_pid = 0;
    int root = pin_root(uid, session, &root_pid);
    struct limits limits = {0};
    if (limits_from_env(&limits) < 0)
        log_msg(LOG_ERROR, "session %s: ignoring the limits in the environment", session);
    struct watch_report report = {0};
    if (root >= 0)
        watch_report_init(&report, root_pid);
    struct history hist;
    history_init(&hist, report.path[0] != '\0');
    struct monitor mon;
    if (monitor_init(&mon, session, uid, grace) < 0) {
        log_msg(LOG_ERROR, "session %s: no registry to watch", session);
        return EXIT_REGISTRY;
    }
    struct metrics metrics;
    metrics_init(&metrics, metrics_path, session, uid);
    mon.metrics = &metrics;
    struct launcher_tie tie;
    launcher_tie_init(&tie, uid, session);
    mon.history = &hist;
    mon.limits = &limits;
    if (report.path[0])
        mon.round_settle_sec = SETTLE_SEC; /* the report judges what had to be killed */
    /* the root's death ends the wait at once; the bot's other processes
     * are pinned by the monitor and noticed on its next tick */
    while (root >= 0 || mon.bot_alive) {
        struct pollfd p[2] = {{.fd = root, .events = POLLIN},
                              {.fd = launcher_tie_fd(&tie), .events = POLLIN}};
        int n = poll(p, 2, TICK_MS);
        if (root >= 0 && (n < 0 ? errno != EINTR : p[0].revents != 0)) {
            close(root);
            root = -1;
        }
        if (n > 0 && p[1].revents)
            launcher_tie_lost(&tie);
        if (launcher_tie_due(&tie, session))
            break;
        if (monitor_tick(&mon) < 0) { /* someone reaped the whole session */
            launcher_tie_free(&tie);
            monitor_free(&mon);
            if (root >= 0)
                close(root);
            watch_report_finish(&report, &hist, session, root_pid, &limits);
            return EXIT_DONE;
        }
    }
    /* a browser that outlived its launcher: the session began with the
     * launcher, and what it made for the browser is the session's */
    uint64_t launcher_began = launcher_tie_began(&tie);
    launcher_tie_free(&tie);
    if (root >= 0)
        close(root);

    struct session s;
    char why[160];
    enum cr_registry_status st = session_load(&s, uid, session, 1, why, sizeof why);
    if (st == CR_REG_MISSING || st == CR_REG_REAPED) {
        log_msg(LOG_INFO, "session %s: %s", session, why);
        monitor_free(&mon);
        watch_report_finish(&report, &hist, session, root_pid, &limits);
        return EXIT_DONE;
    }
    if (st != CR_REG_OK) { /* changed under us (truncated...): the cookie still says who is ours */
        log_msg(LOG_WARN, "session %s: %s: reaping by cookie and descendants only", session, why);
        session_cookie_only(&s, uid, session);
    }
    if (report.path[0])
        session_settle(&s, SETTLE_SEC);
    history_observe(&hist, &s);
    struct reap_options ro = {.grace_sec = grace, .seen = &mon.seen, .began_ticks = launcher_began};
    struct reap_result r;
    int rc = reap_session(&s, &ro, &r) == 0 ? EXIT_DONE : EXIT_LEFTOVERS;
    metrics_reaped(&metrics, &r, 0);
    history_reap(&hist, &r, REASON_SESSION_ENDED, NULL);
    if (rc != EXIT_DONE)
        log_msg(LOG_ERROR, "session %s: the reap left processes or directories behind", session);
    log_report(LOG_INFO, &r);
    reap_result_free(&r);
    session_free(&s);
    monitor_free(&mon);
    watch_report_finish(&report, &hist, session, root_pid, &limits);
    return rc;
}
