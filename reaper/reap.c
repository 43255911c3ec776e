#include "reap.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "dirseen.h"
#include "pidfd.h"
#include "procfs.h"
#include "proctable.h"
#include "reap_dirs.h"
#include "reaprules.h"
#include "rounds.h"
#include "safestr.h"
#include "trust.h"

#define FREEZE_ROUNDS 20
#define KILL_WAIT_SEC 5.0
#define PIN_RESERVE 32 /* descriptors never used for pidfds */
#define EARLY_BATCH 32 /* targets planned between two looks for early kills */

/* A target's place in r->targets, by pid. */
struct target_slot {
    pid_t pid;
    size_t index;
    UT_hash_handle hh;
};

struct plan {
    struct session *s;
    struct proctable pt; /* pins the session uid's processes, within the descriptor budget */
    struct target_slot *slots;
    struct reap_result *r;
    const struct reap_options *opt;
    double lap; /* when the phase being timed began */
    int stop_on_add; /* not a dry run: a target is stopped as soon as it is planned */
    int early;       /* --grace 0: what the freeze holds is killed while the plan goes on */
    size_t early_at; /* targets planned at the last look */
    /* the PID namespace's last pid when the table was last complete (read
     * before its listing), -1 if unknown: while it is the same, no process
     * was created since, so the table shows every child of every target */
    long last_pid;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Charges the time since the last lap to `phase`. */
static void lap(struct plan *p, double *phase)
{
    double now = now_ms();
    *phase += now - p->lap;
    p->lap = now;
}

/* Signals through the pidfd, which pins the process we verified; without
 * one (old kernels, or beyond the descriptor budget) identity is re-checked
 * right before kill().  A target that is gone is marked dead. */
static int send_signal(struct target *t, int sig)
{
    int rc;
    if (t->pidfd >= 0) {
        rc = pidfd_signal(t->pidfd, sig);
    } else {
        struct proc_stat st;
        if (proc_stat_read(t->pid, &st) < 0 || st.start_time != t->start_time) {
            errno = ESRCH;
            rc = -1;
        } else {
            rc = kill(t->pid, sig);
        }
    }
    if (rc < 0 && errno == ESRCH)
        t->dead = 1;
    return rc;
}

static int target_dead(struct target *t)
{
    if (t->dead)
        return 1;
    if (t->pidfd >= 0) {
        t->dead = pidfd_exited(t->pidfd);
    } else {
        /* a failed read is death only when /proc says the pid is gone, never
         * when we ran out of descriptors */
        struct proc_stat st;
        if (proc_stat_read(t->pid, &st) < 0)
            t->dead = errno == ENOENT || errno == ESRCH;
        else
            t->dead = st.start_time != t->start_time || st.state == 'Z';
    }
    return t->dead;
}

/* Which targets died: one poll over every pinned one. */
static void sweep_deaths(struct reap_result *r)
{
    struct pollfd *fds = calloc(r->ntargets ? r->ntargets : 1, sizeof *fds);
    struct target **who = calloc(r->ntargets ? r->ntargets : 1, sizeof *who);
    if (!fds || !who)
        abort();
    nfds_t n = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        if (t->dead)
            continue;
        if (t->pidfd < 0) {
            target_dead(t);
            continue;
        }
        fds[n] = (struct pollfd){.fd = t->pidfd, .events = POLLIN};
        who[n++] = t;
    }
    if (n && poll(fds, n, 0) > 0)
        for (nfds_t k = 0; k < n; k++)
            who[k]->dead = fds[k].revents != 0;
    free(fds);
    free(who);
}

/* 1 if n is the process that started at `start` (its stat read now if
 * the scan left it for later). */
static int node_started(struct proc_node *n, uint64_t start)
{
    return n && proctable_facts(n) == 0 && n->start_time == start;
}

static struct target *find_target(const struct plan *p, pid_t pid)
{
    struct target_slot *slot;
    HASH_FIND_INT(p->slots, &pid, slot);
    return slot ? &p->r->targets[slot->index] : NULL;
}

static void index_targets(struct plan *p)
{
    for (size_t i = 0; i < p->r->ntargets; i++) {
        struct target_slot *slot;
        HASH_FIND_INT(p->slots, &p->r->targets[i].pid, slot);
        slot->index = i;
    }
}

static void free_slots(struct plan *p)
{
    struct target_slot *slot, *tmp;
    HASH_ITER(hh, p->slots, slot, tmp) {
        HASH_DEL(p->slots, slot);
        free(slot);
    }
}

/* 1 if no process was created in the reaper's PID namespace since the
 * table was last complete: none forked, no pid handed out again. */
static int table_current(const struct plan *p)
{
    return p->last_pid >= 0 && proc_last_pid() == p->last_pid;
}

static void refresh(struct plan *p)
{
    if (p->last_pid >= 0)
        p->last_pid = proc_last_pid();
    proctable_refresh(&p->pt);
}

#define CMDLINE_READ_MAX 8192
#define MEMORY_READ_MAX 65536 /* a command line and environment larger than this are read from /proc */

/* What a session cookie of len bytes (proc_environ_value's answer) says. */
static enum session_cookie cookie_named(const struct plan *p, long len, const char *v, size_t cap)
{
    if (len <= 0)
        return COOKIE_NONE;
    return (size_t)len < cap && strcmp(v, p->s->id) == 0 ? COOKIE_OURS : COOKIE_OTHER;
}

/* The command line and the environment of n in one process_vm_readv
 * instead of two /proc files (each an open, a read, a close and a new
 * inode): the cookie from the environment, the command line kept for
 * live_role.  -1 where the kernel does not let us read its memory, or its
 * stat (where they are) is not to be had: /proc then. */
static int read_memory(const struct plan *p, struct proc_node *n)
{
    static char mem[MEMORY_READ_MAX]; /* one reap at a time, one thread */
    char cmd[CMDLINE_READ_MAX], v[CR_SESSION_MAX + 1];
    const char *env;
    size_t cmdlen, envlen;
    if (proctable_facts(n) < 0 ||
        proc_args_env_read(n->pid, &n->areas, mem, sizeof mem, cmd, sizeof cmd, &cmdlen, &env, &envlen) < 0)
        return -1;
    if (!n->cookie) {
        long len = proc_env_value_in(env, envlen, "CHROMEREAPER_SESSION", v, sizeof v);
        n->cookie = (int)cookie_named(p, len, v, sizeof v) + 1;
    }
    if (!n->role && !n->cmdline) {
        if (!(n->cmdline = malloc(cmdlen + 1)))
            abort();
        memcpy(n->cmdline, cmd, cmdlen + 1);
        n->cmdline_len = cmdlen;
    }
    return 0;
}

/* By the real executable (unreadable for another uid, or a non-dumpable
 * process of ours when we are not root: CR_ROLE_UNKNOWN).  Read once per
 * process, with what the report and the profile check need from the same
 * reads: the executable and a browser's --user-data-dir. */
static enum cr_role live_role(const struct plan *p, struct proc_node *n)
{
    if (!n->role) {
        char buf[CMDLINE_READ_MAX], exe[PATH_MAX];
        size_t len = 0;
        enum cr_role r = CR_ROLE_UNKNOWN;
        int have_exe = proc_exe_read(n->pid, exe, sizeof exe) == 0;
        if (have_exe && !n->cmdline && !n->cookie)
            read_memory(p, n); /* the cookie comes with it */
        const char *cmd = n->cmdline;
        if (cmd)
            len = n->cmdline_len;
        else if (have_exe && proc_file_read(n->pid, "cmdline", buf, sizeof buf, &len) == 0)
            cmd = buf;
        if (have_exe && cmd) {
            r = role_classify_cmdline(exe, cmd, len);
            const char *udd = r == CR_ROLE_BROWSER ? role_user_data_dir_cmdline(cmd, len) : NULL;
            if (udd && !(n->user_data_dir = strdup(udd)))
                abort();
        }
        if (have_exe && !(n->exe = strdup(exe)))
            abort();
        free(n->cmdline);
        n->cmdline = NULL;
        n->role = (int)r + 1;
    }
    return (enum cr_role)(n->role - 1);
}

/* The session cookie in the process's environment, read once per
 * process.  Chrome's children overwrite their environ area
 * (setproctitle): having no cookie proves nothing either way. */
static enum session_cookie cookie_of(const struct plan *p, struct proc_node *n)
{
    if (!n->cookie && read_memory(p, n) < 0) {
        char v[CR_SESSION_MAX + 1];
        long len = proc_environ_value(n->pid, "CHROMEREAPER_SESSION", v, sizeof v);
        n->cookie = (int)cookie_named(p, len, v, sizeof v) + 1;
    }
    return (enum session_cookie)(n->cookie - 1);
}

/* 1 if the process has this very registry file mapped, read once per
 * process: the library maps it in every process of the session (the root,
 * chromedriver, the browser, its zygotes, whose forks inherit it), and a
 * record rewritten to name some other process of the uid names one that
 * does not.  What still maps it once the browser died (an orphaned zygote
 * and its renderers, which carry no cookie) is tied by it. */
static int maps_registry(const struct plan *p, struct proc_node *n)
{
    if (!n->maps) {
        const struct session *s = p->s;
        int m = s->reg_ino ? proc_maps_file(n->pid, major((dev_t)s->reg_dev), minor((dev_t)s->reg_dev), s->reg_ino)
                           : 0;
        n->maps = m == 1 ? 1 : 2;
    }
    return n->maps == 1;
}

/* 1 if the parent chain of n reaches the reaper (the supervisor: `run` is
 * the session's subreaper), a holder of the cookie, or a process that maps
 * the session's registry (the root among them). */
static int descends_from_session(const struct plan *p, const struct proc_node *n)
{
    struct proc_node *a = proctable_find(&p->pt, n->ppid);
    for (int hops = 0; a && a->pid > 1 && hops < 4096; hops++) {
        if (a->pid == p->pt.self || cookie_of(p, a) == COOKIE_OURS || maps_registry(p, a))
            return 1;
        a = proctable_find(&p->pt, a->ppid);
    }
    return 0;
}

/* A pidfd on the process the node describes, or -1 (beyond the budget of
 * descriptors, out of them, or on an old kernel: its identity is then
 * checked before every signal).  The scan's own pin needs no check: it was
 * opened before the node was read.  Returns -2 if the process is gone or
 * its pid names another process now. */
static int pin_target(struct plan *p, struct proc_node *n)
{
    int fd = proctable_take_pidfd(n);
    if (fd >= 0)
        return fd;
    if (p->pt.pinned < p->pt.pin_budget) {
        fd = pidfd_pin(n->pid);
        if (fd < 0 && errno == ESRCH)
            return -2;
        p->pt.pinned += fd >= 0;
    }
    struct proc_stat st;
    if (proc_stat_read(n->pid, &st) < 0 || st.start_time != n->start_time) {
        if (fd >= 0)
            close(fd);
        return -2;
    }
    return fd;
}

/* Stops a newly planned target, which runs as SCHED_BATCH from then on:
 * a batch task woken up preempts no one, so the wake-ups that stop and
 * later kill it no longer take the reaper's CPU from it (the scheduler
 * wakes them where the reaper runs) while the other CPUs are idle; they
 * go to those, and a reap of 1,000 took 0.73-0.84 of the time
 * (docs/BENCHMARKS.md, B4).  Its weight is unchanged, so a busy machine
 * does not starve its exit, as nice 19 or SCHED_IDLE would.  The policy
 * is set by pid, between two proofs that the pinned process held it: the
 * facts read after pinning it, and the SIGSTOP through its pidfd.  Only
 * the main thread's policy changes: it is a hint, not the freeze. */
static void stop_target(struct target *t)
{
    if (t->pidfd >= 0) {
        struct sched_param none = {0};
        sched_setscheduler(t->pid, SCHED_BATCH, &none);
    }
    if (send_signal(t, SIGSTOP) == 0)
        t->stopped = 1;
}

/* Adds n to the plan if the facts allow (trust_process), pinned with a
 * pidfd that names the process the facts were read from.  `claim` is the
 * record that names it (NULL when found by descent from a target or by the
 * cookie).  Returns 1 if added. */
static int add_target(struct plan *p, struct proc_node *n, enum found_by how,
                      const struct tracked *claim)
{
    struct reap_result *r = p->r;
    if (!n || find_target(p, n->pid) || proctable_facts(n) < 0)
        return 0; /* planned already, or gone before its stat was read */
    struct process_facts f = {
        .init_or_kthread = n->pid <= 1 || n->kthread,
        .zombie = n->state == 'Z',
        .other_uid = n->uid != p->s->uid,
        .claimed = claim != NULL,
    };
    enum trust_verdict early = trust_process(&f);
    if (early != TRUST_UNTIED && early != TRUST_SIGNAL)
        return 0; /* cheap facts first: no /proc reads for what they rule out */
    f.reaper_lineage = proctable_is_self_or_ancestor(&p->pt, n->pid);
    f.spared_root = p->opt->spare_root && n->pid == p->s->root_pid && n->start_time == p->s->root_start_time;
    f.cookie = cookie_of(p, n);
    if (claim) {
        f.claim_start_differs = claim->key.start_time != n->start_time;
        f.predates_session = n->start_time < p->s->root_start_time;
    }
    /* a doctor's orphan is tied by the kernel facts reaper/leak.c judged */
    f.descends = how == FOUND_DESCENDANT || how == FOUND_ORPHAN ||
                 (f.cookie != COOKIE_OURS && descends_from_session(p, n));
    f.maps_registry = !f.descends && f.cookie != COOKIE_OURS && maps_registry(p, n);
    if (trust_process(&f) != TRUST_SIGNAL)
        return 0;
    int fd = pin_target(p, n);
    if (fd == -2)
        return 0;
    if (r->ntargets == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        struct target *t = realloc(r->targets, r->cap * sizeof *t);
        if (!t)
            abort();
        r->targets = t;
    }
    struct target_slot *slot = malloc(sizeof *slot);
    if (!slot)
        abort();
    *slot = (struct target_slot){.pid = n->pid, .index = r->ntargets};
    HASH_ADD_INT(p->slots, pid, slot);
    struct target *t = &r->targets[r->ntargets++];
    memset(t, 0, sizeof *t);
    t->pid = n->pid;
    t->start_time = n->start_time;
    t->ppid = n->ppid;
    t->found_by = how;
    t->pidfd = fd;
    enum cr_role recorded = claim ? claim->role : CR_ROLE_UNKNOWN;
    enum cr_role live = live_role(p, n);
    t->role = live != CR_ROLE_UNKNOWN && live != CR_ROLE_OTHER ? live : recorded;
    if (t->role == CR_ROLE_UNKNOWN)
        t->role = live;
    cr_strlcpy(t->exe, n->exe ? n->exe : "", sizeof t->exe);
    /* the freeze begins with the plan: a stopped process forks no more */
    if (p->stop_on_add)
        stop_target(t);
    return 1;
}

/* What kill_judge needs to know about t, from the table (the caller
 * knows whether it shows every child).  The children are counted until
 * the first that is alive: one is enough to hold t back, and the early
 * kills ask again about every parent at every look. */
static struct kill_facts kill_facts_of(const struct plan *p, const struct target *t, int plan_done)
{
    struct kill_facts f = {.done = t->dead || t->sent_kill, .plan_done = plan_done, .stopped = t->stopped,
                           .table_complete = 1};
    if (f.done)
        return f;
    struct proc_node *n = proctable_find(&p->pt, t->pid);
    if (!node_started(n, t->start_time))
        return f; /* gone from /proc: it has no child left to watch */
    for (size_t c = 0; c < n->nchildren && !f.children_alive; c++) {
        struct proc_node *cn = proctable_find(&p->pt, n->children[c]);
        struct target *ct = cn ? find_target(p, cn->pid) : NULL;
        if (ct && node_started(cn, ct->start_time))
            f.children_alive += !ct->sent_kill && !ct->dead;
        else
            f.children_unjudged += cn != NULL;
    }
    return f;
}

/* SIGKILL to every target kill_judge allows (leaves first); once the plan
 * is complete again until none is left that it allows, and then whatever
 * a failed signal held back.  The caller checked that the table shows
 * every child of a stopped target.  Returns how many were sent SIGKILL. */
static size_t kill_ready(struct plan *p, int plan_done)
{
    struct reap_result *r = p->r;
    size_t killed = 0, now;
    do {
        now = 0;
        for (size_t i = 0; i < r->ntargets; i++) {
            struct target *t = &r->targets[i];
            if (t->dead || t->sent_kill)
                continue;
            struct kill_facts f = kill_facts_of(p, t, plan_done);
            if (kill_judge(&f) == KILL_NOW && send_signal(t, SIGKILL) == 0) {
                t->sent_kill = 1;
                now++;
            }
        }
        killed += now;
    } while (now && plan_done); /* during the plan one pass: the next look goes on */
    for (size_t i = 0; plan_done && i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        if (!t->sent_kill && !t->dead && send_signal(t, SIGKILL) == 0) {
            t->sent_kill = 1;
            killed++;
        }
    }
    return killed;
}

/* --grace 0: every EARLY_BATCH targets, while no process was created since
 * the scan, the stopped leaves of the plan are killed as it goes on, so
 * that their exits overlap the reads of the rest.  Once a process was
 * created, the plan only stops, and the freeze after it looks for what
 * was forked. */
static void kill_early(struct plan *p)
{
    if (!p->early || p->r->ntargets < p->early_at + EARLY_BATCH)
        return;
    p->early_at = p->r->ntargets;
    if (!table_current(p)) {
        p->early = 0;
        return;
    }
    kill_ready(p, 0);
}

/* Every live descendant of every target: what the shim could not see
 * (namespaced zygotes, static binaries, cleaned environments). */
static size_t add_descendants(struct plan *p)
{
    size_t added = 0;
    for (size_t i = 0; i < p->r->ntargets; i++) { /* grows while we iterate */
        struct proc_node *n = proctable_find(&p->pt, p->r->targets[i].pid);
        if (!node_started(n, p->r->targets[i].start_time))
            continue;
        for (size_t c = 0; c < n->nchildren; c++)
            added += (size_t)add_target(p, proctable_find(&p->pt, n->children[c]), FOUND_DESCENDANT, NULL);
    }
    return added;
}

/* After a rescan, what the rescan read for the first time and the kernel
 * ties to the session although no target is its parent any more: a
 * zygote that forked during the grace and died before the freeze that
 * followed leaves its child to init, with its environment overwritten;
 * the registry page the child still maps (shim/state.c) ties it.  Whole
 * session reaps only, as the cookie scan: a round's next reap finds such a
 * process by the record its zygote made. */
static size_t add_new_tied(struct plan *p)
{
    if (p->opt->round || p->s->pidns_gone || !p->s->id[0])
        return 0; /* a round's, a namespace gone, a doctor's orphans */
    size_t added = 0;
    struct proc_node *n, *tmp;
    HASH_ITER(hh, p->pt.by_pid, n, tmp) {
        if (n->fresh != p->pt.scans || n->uid != p->s->uid || find_target(p, n->pid) ||
            !role_is_browser_stack(live_role(p, n)))
            continue;
        /* the report names the tie: `run` adopts such orphans, and what
         * descends from it is found by descent */
        enum found_by how = FOUND_MAPPING;
        if (cookie_of(p, n) == COOKIE_OURS)
            how = FOUND_COOKIE;
        else if (descends_from_session(p, n))
            how = FOUND_DESCENDANT;
        added += (size_t)add_target(p, n, how, NULL);
    }
    return added;
}

/* What a rescan shows that the plan lacks: new children of targets, and
 * new processes tied to the session. */
static size_t add_rescanned(struct plan *p)
{
    size_t added = add_descendants(p);
    return added + add_new_tied(p);
}

static void plan_tracked(struct plan *p, struct tracked *t)
{
    if (t->reaped || (t->flags & CR_ENTRY_PIDNS))
        return; /* dead already, or a namespace-local pid: the descendant walk reaches it */
    struct proc_node *n = proctable_find(&p->pt, t->key.pid);
    if (!n)
        return; /* exited */
    /* a round's members are all its business; a session's, its browser stack */
    /* the browser stack, by its real executable; the record's role is only
     * a fallback for a process whose executable we may not read */
    enum cr_role live = live_role(p, n);
    if (role_is_browser_stack(live != CR_ROLE_UNKNOWN ? live : t->role))
        add_target(p, n, FOUND_REGISTRY, t);
}

static void build_plan(struct plan *p)
{
    const struct round *round = p->opt->round;
    if (round) {
        for (size_t i = 0; i < round->nmembers; i++)
            plan_tracked(p, round->members[i]);
    } else {
        struct tracked *t, *tmp;
        HASH_ITER(hh, p->s->procs, t, tmp) {
            plan_tracked(p, t);
            kill_early(p);
        }
        /* The cookie finds browser processes that escaped both channels
         * (none can be alive if the session's PID namespace is gone). */
        struct proc_node *n, *ntmp;
        HASH_ITER(hh, p->pt.by_pid, n, ntmp) {
            if (p->s->pidns_gone || n->uid != p->s->uid || find_target(p, n->pid))
                continue;
            if (cookie_of(p, n) == COOKIE_OURS && role_is_browser_stack(live_role(p, n)))
                add_target(p, n, FOUND_COOKIE, NULL);
        }
    }
    add_descendants(p);
}

/* The profiles the browsers about to die were started with: a target
 * whose real executable and command line are a browser's and whose
 * environment carries the cookie (read by the plan). */
static void observe_profiles(struct plan *p, struct dirseen *seen)
{
    for (size_t i = 0; i < p->r->ntargets; i++) {
        struct proc_node *n = proctable_find(&p->pt, p->r->targets[i].pid);
        if (n && n->user_data_dir && node_started(n, p->r->targets[i].start_time) &&
            n->cookie == (int)COOKIE_OURS + 1)
            dirseen_add(seen, n->user_data_dir);
    }
}

static void compute_depths(struct plan *p)
{
    for (size_t i = 0; i < p->r->ntargets; i++) {
        struct target *t = &p->r->targets[i];
        int depth = 0;
        pid_t parent = t->ppid;
        struct target *pt;
        while (depth < 4096 && (pt = find_target(p, parent)) != NULL) {
            depth++;
            parent = pt->ppid;
        }
        t->depth = depth;
    }
}

static int deeper_first(const void *a, const void *b)
{
    const struct target *x = a, *y = b;
    return y->depth - x->depth;
}

/* Leaves first: the order signals go out in, and the report's order. */
static void order_leaves_first(struct plan *p)
{
    compute_depths(p);
    if (p->r->ntargets > 1)
        qsort(p->r->targets, p->r->ntargets, sizeof *p->r->targets, deeper_first);
    index_targets(p);
}

/* `sig` to every target not known to be dead, from `from` on. */
static void signal_all(struct reap_result *r, size_t from, int sig)
{
    for (size_t i = from; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        if (t->dead || send_signal(t, sig) < 0)
            continue;
        if (sig == SIGTERM)
            t->sent_term = 1;
        if (sig == SIGKILL)
            t->sent_kill = 1;
    }
}

/* Waits until every target is dead or `sec` passed; returns 1 if all died.
 * Waiting for all of them is waiting for each in turn: one pidfd at a time
 * (it answers at once if its process is dead already), so that a death
 * costs one wake-up, where a poll over n pidfds costs n each time one dies.
 * Targets without a pidfd are looked at every 10 ms. */
static int wait_all_dead(struct reap_result *r, double sec)
{
    double deadline = now_ms() + sec * 1e3;
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        while (!t->dead && (t->pidfd >= 0 || !target_dead(t))) {
            double left = deadline - now_ms();
            if (left <= 0)
                return 0;
            int wait = (int)left + 1;
            if (t->pidfd >= 0) {
                struct pollfd pf = {.fd = t->pidfd, .events = POLLIN};
                t->dead = poll(&pf, 1, wait) > 0;
            } else {
                poll(NULL, 0, wait < 10 ? wait : 10);
            }
        }
    }
    return 1;
}

/* Everything is stopped (the plan stopped each target it added) so that
 * nothing respawns or forks while we work; while processes were created
 * since the table was complete, a rescan looks for new descendants, which
 * are planned and stopped in turn.  The rescan reads only what is new: a
 * pinned target that is alive is the process planned for. */
static void freeze(struct plan *p)
{
    for (size_t i = 0; i < p->r->ntargets; i++) {
        struct target *t = &p->r->targets[i];
        if (!t->stopped && !t->dead && send_signal(t, SIGSTOP) == 0)
            t->stopped = 1;
    }
    for (int round = 0; round < FREEZE_ROUNDS && !table_current(p); round++) {
        refresh(p);
        if (add_rescanned(p) == 0)
            break;
    }
}

static void kill_processes(struct plan *p)
{
    struct reap_result *r = p->r;
    sweep_deaths(r);
    for (size_t i = 0; i < r->ntargets; i++)
        if (r->targets[i].dead && !r->targets[i].sent_kill)
            r->targets[i].outcome = OUTCOME_VANISHED;
    freeze(p);
    lap(p, &r->timings.freeze);
    order_leaves_first(p);
    if (p->opt->grace_sec > 0) {
        /* every process gets SIGTERM while all are stopped, leaves first, so
         * no parent sees a child die and replaces it before its own turn */
        signal_all(r, 0, SIGTERM);
        signal_all(r, 0, SIGCONT);
        lap(p, &r->timings.signal);
        wait_all_dead(r, p->opt->grace_sec);
        lap(p, &r->timings.wait);
        for (size_t i = 0; i < r->ntargets; i++) {
            struct target *t = &r->targets[i];
            if (t->outcome == OUTCOME_PLANNED && t->sent_term && target_dead(t))
                t->outcome = OUTCOME_TERMINATED;
            t->stopped = 0;
        }
        /* SIGCONT let the survivors run, and fork: frozen again, and what
         * they forked found, before SIGKILL */
        freeze(p);
        lap(p, &r->timings.freeze);
        order_leaves_first(p);
    }
    /* With no grace nothing runs again after the freeze: SIGKILL ends a
     * stopped process as it is, and a SIGTERM would be one more signal per
     * process for nothing.  A child forked after all is found by a rescan
     * (when processes were created since the last) and killed in turn. */
    for (int round = 0; round < FREEZE_ROUNDS; round++) {
        kill_ready(p, 1);
        if (table_current(p))
            break;
        refresh(p);
        if (add_rescanned(p) == 0)
            break;
    }
    lap(p, &r->timings.signal);
    wait_all_dead(r, KILL_WAIT_SEC);
    lap(p, &r->timings.wait);
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        if (t->outcome != OUTCOME_PLANNED)
            continue;
        if (!target_dead(t))
            t->outcome = OUTCOME_SURVIVED;
        else
            t->outcome = t->sent_kill ? OUTCOME_KILLED
                         : t->sent_term ? OUTCOME_TERMINATED : OUTCOME_VANISHED;
    }
    order_leaves_first(p);
}

static int in_scope(const struct plan *p, const struct tracked *t)
{
    return !p->opt->round || t->round_root == p->opt->round->root;
}

/* Records of processes now verifiably dead are marked reaped, so their
 * slots can be reused; so are the records of directories that were dealt
 * with.  A slot rewritten meanwhile is left alone (the transition fails). */
static void mark_reaped(struct plan *p, const struct dir_result *results,
                        struct tracked_dir **handled, size_t nhandled)
{
    struct session *s = p->s;
    for (size_t i = 0; i < s->nentry_refs; i++) {
        struct record_ref *ref = &s->entry_refs[i];
        struct tracked *t = ref->proc;
        if (ref->reaped || !in_scope(p, t))
            continue;
        /* from what the reap knows already: no scan after the deaths */
        struct proc_node *n = proctable_find(&p->pt, t->key.pid);
        struct target *tg = find_target(p, t->key.pid);
        struct record_facts f = {
            .namespaced = (t->flags & CR_ENTRY_PIDNS) != 0,
            .seen = node_started(n, t->key.start_time) && n->state != 'Z',
            .target = tg && tg->start_time == t->key.start_time,
        };
        f.target_dead = f.target && target_dead(tg);
        f.pinned = !f.target && f.seen && n->pidfd >= 0;
        f.pinned_exited = f.pinned && pidfd_exited(n->pidfd);
        enum record_verdict v = record_judge(&f);
        if (v == RECORD_KEEP || (v == RECORD_CHECK && tracked_key_alive(&t->key)))
            continue;
        ref->reaped = registry_entry_transition(&s->reg, ref->slot, ref->seq, CR_SLOT_COMMITTED,
                                                CR_SLOT_REAPED);
    }
    for (size_t k = 0; k < nhandled; k++) {
        enum dir_action a = results[k].action;
        /* in a round's reap a failure is final: something else writes into
         * the directory, and the next tick must not go on removing it */
        int settled = a == DIR_REMOVED || a == DIR_ABSENT || (a == DIR_FAILED && p->opt->round) ||
                      (a == DIR_KEPT && !results[k].again);
        for (size_t i = 0; settled && i < s->ndir_refs; i++) {
            struct record_ref *ref = &s->dir_refs[i];
            if (ref->dir == handled[k] && !ref->reaped)
                ref->reaped = registry_dir_transition(&s->reg, ref->slot, ref->seq,
                                                      CR_SLOT_COMMITTED, CR_SLOT_REAPED);
        }
    }
}

/* A pidfd per target: a tree larger than the soft open-file limit (often
 * 1,024) needs the hard one.  Only the reaper's own limit changes: `run`
 * started its command before it ever reaps. */
static size_t raise_open_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t hard = rl.rlim_max;
        rl.rlim_cur = hard;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    /* what /proc reads, the registry and stdio need stays free */
    return rl.rlim_cur == RLIM_INFINITY ? SIZE_MAX : rl.rlim_cur > PIN_RESERVE ? rl.rlim_cur - PIN_RESERVE : 0;
}

/* Right before the scan: how the plan will stop and kill, and the last
 * pid it covers (when /proc is the reaper's own PID namespace's). */
static void start_plan(struct plan *p)
{
    p->last_pid = proc_in_nested_pidns(0) == 0 ? proc_last_pid() : -1;
    p->stop_on_add = !p->opt->dry_run;
    p->early = p->stop_on_add && p->opt->grace_sec <= 0 && p->last_pid >= 0;
}

int reap_session(struct session *s, const struct reap_options *opt, struct reap_result *out)
{
    double start = now_ms();
    size_t budget = raise_open_file_limit();
    memset(out, 0, sizeof *out);
    cr_strlcpy(out->session, s->id, sizeof out->session);
    out->dry_run = opt->dry_run;
    out->overflow = s->overflow;
    out->no_registry = s->reg.hdr == NULL;
    struct plan p = {.s = s, .r = out, .opt = opt, .lap = start};
    start_plan(&p);
    proctable_snapshot_pinned(&p.pt, s->uid, budget);
    lap(&p, &out->timings.scan);
    build_plan(&p);
    struct dirseen seen = {0};
    observe_profiles(&p, &seen);
    if (!opt->dry_run) {
        lap(&p, &out->timings.plan);
        kill_processes(&p);
    } else {
        order_leaves_first(&p);
        lap(&p, &out->timings.plan);
    }

    /* the directories in scope, not yet dealt with by an earlier reap */
    size_t ndirs = 0, cap = (size_t)HASH_COUNT(s->dirs);
    struct tracked_dir **dirs = calloc(cap ? cap : 1, sizeof *dirs);
    if (!dirs)
        abort();
    if (opt->round) {
        for (size_t i = 0; i < opt->round->ndirs; i++)
            if (!opt->round->dirs[i]->reaped)
                dirs[ndirs++] = opt->round->dirs[i];
    } else {
        struct tracked_dir *d, *dtmp;
        HASH_ITER(hh, s->dirs, d, dtmp) {
            if (!d->reaped)
                dirs[ndirs++] = d;
        }
    }
    int survivors = (int)reap_count(out, OUTCOME_SURVIVED);
    out->ndirs = ndirs;
    out->dirs = calloc(ndirs ? ndirs : 1, sizeof *out->dirs);
    if (!out->dirs)
        abort();
    /* the session's own processes are no users of its directories: those
     * this reap signalled, and those it did not (a dying browser's orphaned
     * children, the bot), live with their recorded start time */
    size_t nreaped = 0;
    pid_t *reaped = calloc(out->ntargets + HASH_COUNT(s->procs) + 1, sizeof *reaped);
    if (!reaped)
        abort();
    for (size_t i = 0; i < out->ntargets; i++)
        reaped[nreaped++] = out->targets[i].pid;
    struct tracked *t, *ttmp;
    HASH_ITER(hh, s->procs, t, ttmp) {
        struct proc_node *n = (t->flags & CR_ENTRY_PIDNS) ? NULL : proctable_find(&p.pt, t->key.pid);
        if (node_started(n, t->key.start_time))
            reaped[nreaped++] = t->key.pid;
    }
    struct reap_dirs_in in = {.s = s, .opt = opt, .seen = &seen, .reaped = reaped,
                              .nreaped = nreaped, .blocked = survivors > 0};
    reap_dirs(&in, dirs, ndirs, out->dirs);
    free(reaped);
    dirseen_free(&seen);

    out->root_alive = session_root_alive(s);
    int clean = survivors == 0 && reap_count_dirs(out, DIR_FAILED) == 0;
    if (!opt->dry_run && s->writable) {
        mark_reaped(&p, out->dirs, dirs, ndirs);
        struct cr_registry_header *h = s->reg.hdr;
        /* after the records: a reader that sees these counts sees them marked */
        __atomic_fetch_add(&h->processes_reaped,
                           (uint32_t)(reap_count(out, OUTCOME_TERMINATED) + reap_count(out, OUTCOME_KILLED)),
                           __ATOMIC_RELEASE);
        __atomic_fetch_add(&h->dirs_removed, (uint32_t)reap_count_dirs(out, DIR_REMOVED), __ATOMIC_RELEASE);
        if (opt->round)
            __atomic_fetch_add(&h->rounds_reaped, 1, __ATOMIC_RELEASE);
    }
    /* a directory kept for now keeps the registry too: it is the only
     * record that the directory is the session's, for the reap that looks
     * again once its user is gone (reap --stale, a watchdog's sweep) */
    int dirs_pending = 0;
    for (size_t i = 0; i < ndirs; i++)
        dirs_pending |= out->dirs[i].action == DIR_KEPT && out->dirs[i].again;
    if (!opt->dry_run && !opt->round && clean && !dirs_pending && !out->root_alive && !out->no_registry)
        out->registry_unlinked = registry_unlink(s->uid, s->id) == 0;
    free(dirs);
    proctable_free(&p.pt);
    free_slots(&p);
    lap(&p, &out->timings.dirs);
    out->millis = out->timings.total = p.lap - start;
    return clean ? 0 : 1;
}

int reap_orphans(const struct tracked_key *keys, size_t n, uint32_t uid, const struct reap_options *opt,
                 struct reap_result *out)
{
    double start = now_ms();
    memset(out, 0, sizeof *out);
    out->dry_run = opt->dry_run;
    out->no_registry = 1;
    /* no session: an empty id, so any process whose environment names a
     * session is another session's, and never a target */
    struct session none = {.uid = uid};
    struct plan p = {.s = &none, .r = out, .opt = opt, .lap = start};
    start_plan(&p);
    proctable_snapshot_pinned(&p.pt, uid, raise_open_file_limit());
    lap(&p, &out->timings.scan);
    for (size_t i = 0; i < n; i++) {
        struct proc_node *node = proctable_find(&p.pt, keys[i].pid);
        if (node_started(node, keys[i].start_time))
            add_target(&p, node, FOUND_ORPHAN, NULL);
    }
    add_descendants(&p);
    lap(&p, &out->timings.plan);
    if (!opt->dry_run)
        kill_processes(&p);
    else
        order_leaves_first(&p);
    proctable_free(&p.pt);
    free_slots(&p);
    lap(&p, &out->timings.signal);
    out->millis = out->timings.total = p.lap - start;
    return reap_count(out, OUTCOME_SURVIVED) ? 1 : 0;
}

void reap_result_free(struct reap_result *r)
{
    for (size_t i = 0; i < r->ntargets; i++)
        if (r->targets[i].pidfd >= 0)
            close(r->targets[i].pidfd);
    free(r->targets);
    free(r->dirs);
    memset(r, 0, sizeof *r);
}

size_t reap_count(const struct reap_result *r, enum target_outcome o)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ntargets; i++)
        n += r->targets[i].outcome == o;
    return n;
}

size_t reap_count_dirs(const struct reap_result *r, enum dir_action a)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ndirs; i++)
        n += r->dirs[i].action == a;
    return n;
}

const char *outcome_name(enum target_outcome o)
{
    static const char *const names[] = {"planned", "terminated", "killed", "vanished", "survived"};
    return names[o];
}

const char *found_by_name(enum found_by f)
{
    static const char *const names[] = {"registry", "descendant", "cookie", "orphan", "mapping"};
    return names[f];
}

const char *dir_action_name(enum dir_action a)
{
    static const char *const names[] = {"planned", "removed", "absent", "kept", "failed"};
    return names[a];
}
