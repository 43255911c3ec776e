/* See launcher.h. */
#include "launcher.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "browserexe.h"
#include "log.h"
#include "procfs.h"
#include "registry.h"
#include "role.h"

int launcher_reap_due(const char *root_exe, int launcher_gone)
{
    return launcher_gone && role_is_browser_stack(browserexe_role(root_exe, "", 0));
}

/* The parent the root recorded for itself when it made the session, or 0. */
static pid_t recorded_parent(const struct cr_registry *reg, pid_t root, uint64_t start)
{
    uint32_t n = registry_entry_count(reg);
    for (uint32_t i = 0; i < n; i++) {
        struct cr_entry e;
        if (registry_entry_read(reg, i, &e) && e.seen_by == CR_SEEN_ROOT && e.pid == root &&
            e.start_time == start)
            return e.ppid;
    }
    return 0;
}

/* 1 if `root` (started at `start`) is alive and `parent` is its parent. */
static int parent_of_root(pid_t root, uint64_t start, pid_t parent)
{
    struct proc_stat st;
    return proc_stat_read(root, &st) == 0 && st.start_time == start && st.state != 'Z' &&
           st.ppid == parent;
}

void launcher_tie_init(struct launcher_tie *t, uint32_t uid, const char *session)
{
    *t = (struct launcher_tie){.pidfd = -1};
    struct cr_registry reg;
    if (registry_open(&reg, uid, session, 0, NULL, 0) != CR_REG_OK)
        return;
    t->root = __atomic_load_n(&reg.hdr->root_pid, __ATOMIC_ACQUIRE);
    t->root_start = reg.hdr->root_start_time;
    pid_t parent = t->root > 0 ? recorded_parent(&reg, t->root, t->root_start) : 0;
    registry_close(&reg);
    /* init and a reaper at pid 1 of a namespace outlive everything */
    if (parent <= 1)
        return;
    t->launcher = parent;
    /* the pidfd names the launcher only if it still is the root's parent
     * after it was opened: a dead launcher's pid may be anyone's by now */
    t->pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
    struct proc_stat st;
    if (t->pidfd >= 0 && proc_stat_read(parent, &st) == 0)
        t->launcher_start = st.start_time;
    if (t->pidfd < 0 || !parent_of_root(t->root, t->root_start, parent)) {
        t->launcher_start = 0; /* read from whoever has the pid now */
        launcher_tie_lost(t);
    }
}

int launcher_tie_fd(const struct launcher_tie *t)
{
    return t->pidfd;
}

void launcher_tie_lost(struct launcher_tie *t)
{
    if (t->pidfd >= 0)
        close(t->pidfd);
    t->pidfd = -1;
    t->gone = 1;
}

int launcher_tie_due(struct launcher_tie *t, const char *session)
{
    if (!t->gone || t->launcher <= 0)
        return 0;
    char exe[4096] = "";
    struct proc_stat st;
    /* the root's own exit is the watchdog's business as it always was */
    if (proc_stat_read(t->root, &st) < 0 || st.start_time != t->root_start ||
        proc_exe_read(t->root, exe, sizeof exe) < 0)
        return 0;
    if (!launcher_reap_due(exe, t->gone))
        return 0;
    log_msg(LOG_INFO, "session %s: its root %d (%s) outlived the process that launched it (%d): reaping the session",
            session, (int)t->root, exe, (int)t->launcher);
    return 1;
}

uint64_t launcher_tie_began(struct launcher_tie *t)
{
    /* the root and its launcher may have died in one tick: look again */
    struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
    if (t->pidfd >= 0 && poll(&p, 1, 0) > 0)
        launcher_tie_lost(t);
    return t->gone ? t->launcher_start : 0;
}

void launcher_tie_free(struct launcher_tie *t)
{
    if (t->pidfd >= 0)
        close(t->pidfd);
    t->pidfd = -1;
}
