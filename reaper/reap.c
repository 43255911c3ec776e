#include "reap.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dirpolicy.h"
#include "dirseen.h"
#include "procfs.h"
#include "proctable.h"
#include "reap_dirs.h"
#include "rounds.h"
#include "safestr.h"

#define FREEZE_ROUNDS 20
#define KILL_WAIT_SEC 5.0

struct plan {
    struct session *s;
    struct proctable pt;
    struct reap_result *r;
    const struct reap_options *opt;
    char cookie[CR_SESSION_MAX + 32];
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int pidfd_open_pid(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* Signals through the pidfd, which pins the process we verified; without
 * pidfds (old kernels) identity is re-checked right before kill(). */
static int send_signal(struct target *t, int sig)
{
    if (t->pidfd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, t->pidfd, sig, NULL, 0);
    struct proc_stat st;
    if (proc_stat_read(t->pid, &st) < 0 || st.start_time != t->start_time) {
        errno = ESRCH;
        return -1;
    }
    return kill(t->pid, sig);
}

static int target_dead(struct target *t)
{
    if (t->dead)
        return 1;
    if (t->pidfd >= 0) {
        struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
        t->dead = poll(&p, 1, 0) > 0;
    } else {
        struct proc_stat st;
        t->dead = proc_stat_read(t->pid, &st) < 0 || st.start_time != t->start_time || st.state == 'Z';
    }
    return t->dead;
}

static struct target *find_target(const struct reap_result *r, pid_t pid)
{
    for (size_t i = 0; i < r->ntargets; i++)
        if (r->targets[i].pid == pid)
            return &r->targets[i];
    return NULL;
}

static enum cr_role live_role(pid_t pid)
{
    char buf[8192];
    size_t len;
    if (proc_file_read(pid, "cmdline", buf, sizeof buf, &len) < 0)
        return CR_ROLE_UNKNOWN;
    return role_classify_cmdline(buf, len);
}

/* 1 if the process's environment names a session other than ours: it is
 * another session's, whatever our registry says.  Chrome's children
 * overwrite their environ area (setproctitle), so having no cookie proves
 * nothing either way. */
static int other_session(const struct plan *p, pid_t pid)
{
    char path[64], buf[8192];
    if (proc_path(path, sizeof path, pid, "environ") < 0)
        return 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    const char *ours = p->cookie + sizeof "CHROMEREAPER_SESSION=" - 1;
    int other = 0;
    /* entries are NUL-terminated; an entry longer than buf is skipped */
    size_t len = 0;
    int c;
    while (!other && (c = fgetc(f)) != EOF) {
        if (c != '\0') {
            if (len < sizeof buf - 1)
                buf[len++] = (char)c;
            continue;
        }
        buf[len] = '\0';
        const char *v = cr_env_value(buf, "CHROMEREAPER_SESSION");
        other = v && *v && strcmp(v, ours) != 0;
        len = 0;
    }
    fclose(f);
    return other;
}

/* Never: pid 1, a kernel thread, ourselves or our ancestors, another uid, a
 * zombie (already dead), the live root when it is to be spared, or another
 * session's. */
static int eligible(const struct plan *p, const struct proc_node *n)
{
    if (!n || n->pid <= 1 || n->state == 'Z' || n->kthread || n->uid != p->s->uid)
        return 0;
    if (proctable_is_self_or_ancestor(&p->pt, n->pid))
        return 0;
    if (p->opt->spare_root && n->pid == p->s->root_pid && n->start_time == p->s->root_start_time)
        return 0;
    return !other_session(p, n->pid);
}

/* Adds n to the plan after pinning it with a pidfd and checking that the
 * pinned process is still the one we looked at.  Returns 1 if added. */
static int add_target(struct plan *p, const struct proc_node *n, enum found_by how,
                      enum cr_role recorded)
{
    struct reap_result *r = p->r;
    if (!eligible(p, n) || find_target(r, n->pid))
        return 0;
    int fd = pidfd_open_pid(n->pid);
    if (fd < 0 && errno != ENOSYS)
        return 0; /* gone already */
    struct proc_stat st;
    if (proc_stat_read(n->pid, &st) < 0 || st.start_time != n->start_time) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if (r->ntargets == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        struct target *t = realloc(r->targets, r->cap * sizeof *t);
        if (!t)
            abort();
        r->targets = t;
    }
    struct target *t = &r->targets[r->ntargets++];
    memset(t, 0, sizeof *t);
    t->pid = n->pid;
    t->start_time = n->start_time;
    t->ppid = n->ppid;
    t->found_by = how;
    t->pidfd = fd;
    enum cr_role live = live_role(n->pid);
    t->role = live != CR_ROLE_UNKNOWN && live != CR_ROLE_OTHER ? live : recorded;
    if (t->role == CR_ROLE_UNKNOWN)
        t->role = live;
    proc_exe_read(n->pid, t->exe, sizeof t->exe);
    return 1;
}

/* Every live descendant of every target: what the shim could not see
 * (namespaced zygotes, static binaries, cleaned environments). */
static size_t add_descendants(struct plan *p)
{
    size_t added = 0;
    for (size_t i = 0; i < p->r->ntargets; i++) { /* grows while we iterate */
        struct proc_node *n = proctable_find(&p->pt, p->r->targets[i].pid);
        if (!n || n->start_time != p->r->targets[i].start_time)
            continue;
        for (size_t c = 0; c < n->nchildren; c++)
            added += (size_t)add_target(p, proctable_find(&p->pt, n->children[c]),
                                        FOUND_DESCENDANT, CR_ROLE_UNKNOWN);
    }
    return added;
}

static void plan_tracked(struct plan *p, struct tracked *t)
{
    if (t->reaped || (t->flags & CR_ENTRY_PIDNS))
        return; /* dead already, or a namespace-local pid: the descendant walk reaches it */
    struct proc_node *n = proctable_find(&p->pt, t->key.pid);
    if (!n || n->start_time != t->key.start_time)
        return; /* exited, or the pid now belongs to someone else */
    if (t->key.start_time < p->s->root_start_time)
        return; /* older than the session: not something the session started */
    /* a round's members are all its business; a session's, its browser stack */
    if (p->opt->round || role_is_browser_stack(t->role) || role_is_browser_stack(live_role(n->pid)))
        add_target(p, n, FOUND_REGISTRY, t->role);
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
        }
        /* The cookie finds browser processes that escaped both channels. */
        struct proc_node *n, *ntmp;
        HASH_ITER(hh, p->pt.by_pid, n, ntmp) {
            if (n->uid != p->s->uid || find_target(p->r, n->pid))
                continue;
            if (proc_environ_has(n->pid, p->cookie) == 1 && role_is_browser_stack(live_role(n->pid)))
                add_target(p, n, FOUND_COOKIE, CR_ROLE_UNKNOWN);
        }
    }
    add_descendants(p);
}

static void refresh_table(struct plan *p)
{
    proctable_free(&p->pt);
    proctable_snapshot(&p->pt);
}

static void compute_depths(struct plan *p)
{
    for (size_t i = 0; i < p->r->ntargets; i++) {
        struct target *t = &p->r->targets[i];
        int depth = 0;
        pid_t parent = t->ppid;
        struct target *pt;
        while (depth < 4096 && (pt = find_target(p->r, parent)) != NULL) {
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
}

static void signal_all(struct reap_result *r, int sig, int only_live)
{
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        if (only_live && target_dead(t))
            continue;
        if (send_signal(t, sig) == 0) {
            if (sig == SIGTERM)
                t->sent_term = 1;
            if (sig == SIGKILL)
                t->sent_kill = 1;
        }
    }
}

/* Waits until every target is dead or `sec` passed; returns 1 if all died. */
static int wait_all_dead(struct reap_result *r, double sec)
{
    double deadline = now_ms() + sec * 1e3;
    struct pollfd *fds = calloc(r->ntargets ? r->ntargets : 1, sizeof *fds);
    struct target **who = calloc(r->ntargets ? r->ntargets : 1, sizeof *who);
    if (!fds || !who)
        abort();
    int all_dead = 0;
    for (;;) {
        /* a pidfd turns readable the moment its process dies: sleep on all
         * of them at once (targets without one are polled every 10 ms) */
        nfds_t n = 0;
        int alive = 0, unpinned = 0;
        for (size_t i = 0; i < r->ntargets; i++) {
            struct target *t = &r->targets[i];
            if (t->dead || (t->pidfd < 0 && target_dead(t)))
                continue;
            alive++;
            if (t->pidfd >= 0) {
                fds[n] = (struct pollfd){.fd = t->pidfd, .events = POLLIN};
                who[n++] = t;
            } else {
                unpinned = 1;
            }
        }
        double left = deadline - now_ms();
        if (!alive || left <= 0) {
            all_dead = !alive;
            break;
        }
        int wait = (int)left + 1;
        if (unpinned && wait > 10)
            wait = 10;
        if (poll(fds, n, wait) > 0)
            for (nfds_t k = 0; k < n; k++)
                if (fds[k].revents)
                    who[k]->dead = 1;
    }
    free(fds);
    free(who);
    return all_dead;
}

/* Stop everything first so nothing respawns or forks while we work,
 * repeating until a rescan finds no new descendant. */
static void freeze(struct plan *p)
{
    signal_all(p->r, SIGSTOP, 1);
    for (int round = 0; round < FREEZE_ROUNDS; round++) {
        size_t before = p->r->ntargets;
        refresh_table(p);
        if (add_descendants(p) == 0)
            break;
        for (size_t i = before; i < p->r->ntargets; i++)
            send_signal(&p->r->targets[i], SIGSTOP);
    }
}

static void kill_processes(struct plan *p)
{
    struct reap_result *r = p->r;
    for (size_t i = 0; i < r->ntargets; i++)
        if (target_dead(&r->targets[i]))
            r->targets[i].outcome = OUTCOME_VANISHED;
    freeze(p);
    order_leaves_first(p);
    /* every process gets SIGTERM while all are stopped, leaves first, so
     * no parent sees a child die and replaces it before its own turn */
    signal_all(r, SIGTERM, 1);
    signal_all(r, SIGCONT, 1);
    if (p->opt->grace_sec > 0)
        wait_all_dead(r, p->opt->grace_sec);
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        if (t->outcome == OUTCOME_PLANNED && t->sent_term && target_dead(t))
            t->outcome = OUTCOME_TERMINATED;
    }
    for (int round = 0; round < FREEZE_ROUNDS; round++) {
        signal_all(r, SIGKILL, 1);
        refresh_table(p);
        if (add_descendants(p) == 0)
            break;
    }
    wait_all_dead(r, KILL_WAIT_SEC);
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
    refresh_table(p);
    for (size_t i = 0; i < s->nentry_refs; i++) {
        struct record_ref *ref = &s->entry_refs[i];
        struct tracked *t = ref->proc;
        if (ref->reaped || !in_scope(p, t))
            continue;
        struct proc_node *n = proctable_find(&p->pt, t->key.pid);
        int alive = n && n->start_time == t->key.start_time && n->state != 'Z';
        if (alive || (t->flags & CR_ENTRY_PIDNS))
            continue;
        ref->reaped = registry_entry_transition(&s->reg, ref->slot, ref->seq, CR_SLOT_COMMITTED,
                                                CR_SLOT_REAPED);
    }
    for (size_t k = 0; k < nhandled; k++) {
        enum dir_action a = results[k].action;
        /* in a round's reap a failure is final: something else writes into
         * the directory, and the next tick must not go on removing it */
        int settled = a == DIR_REMOVED || a == DIR_ABSENT || (a == DIR_FAILED && p->opt->round) ||
                      (a == DIR_KEPT && strcmp(results[k].why, "processes of the session survived") != 0 &&
                       strcmp(results[k].why, dir_verdict_why(DIR_KEEP_UNTIL_SESSION_ENDS)) != 0);
        for (size_t i = 0; settled && i < s->ndir_refs; i++) {
            struct record_ref *ref = &s->dir_refs[i];
            if (ref->dir == handled[k] && !ref->reaped)
                ref->reaped = registry_dir_transition(&s->reg, ref->slot, ref->seq,
                                                      CR_SLOT_COMMITTED, CR_SLOT_REAPED);
        }
    }
}

int reap_session(struct session *s, const struct reap_options *opt, struct reap_result *out)
{
    double start = now_ms();
    memset(out, 0, sizeof *out);
    cr_strlcpy(out->session, s->id, sizeof out->session);
    out->dry_run = opt->dry_run;
    out->overflow = s->overflow;
    out->no_registry = s->reg.hdr == NULL;
    struct plan p = {.s = s, .r = out, .opt = opt};
    cr_strlcpy(p.cookie, "CHROMEREAPER_SESSION=", sizeof p.cookie);
    cr_strlcat(p.cookie, s->id, sizeof p.cookie);
    proctable_snapshot(&p.pt);
    build_plan(&p);
    /* the profiles the browsers about to die were started with */
    struct dirseen seen = {0};
    for (size_t i = 0; i < out->ntargets; i++)
        dirseen_observe(&seen, out->targets[i].pid, p.cookie);
    if (!opt->dry_run) {
        kill_processes(&p);
    } else {
        order_leaves_first(&p);
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
    pid_t *reaped = calloc(out->ntargets ? out->ntargets : 1, sizeof *reaped);
    if (!reaped)
        abort();
    for (size_t i = 0; i < out->ntargets; i++)
        reaped[i] = out->targets[i].pid;
    struct reap_dirs_in in = {.s = s, .opt = opt, .seen = &seen, .reaped = reaped,
                              .nreaped = out->ntargets, .blocked = survivors > 0};
    reap_dirs(&in, dirs, ndirs, out->dirs);
    free(reaped);
    dirseen_free(&seen);

    out->root_alive = session_root_alive(s);
    int clean = survivors == 0 && reap_count_dirs(out, DIR_FAILED) == 0;
    if (!opt->dry_run && s->writable) {
        mark_reaped(&p, out->dirs, dirs, ndirs);
        struct cr_registry_header *h = s->reg.hdr;
        __atomic_fetch_add(&h->processes_reaped,
                           (uint32_t)(reap_count(out, OUTCOME_TERMINATED) + reap_count(out, OUTCOME_KILLED)),
                           __ATOMIC_RELAXED);
        __atomic_fetch_add(&h->dirs_removed, (uint32_t)reap_count_dirs(out, DIR_REMOVED), __ATOMIC_RELAXED);
        if (opt->round)
            __atomic_fetch_add(&h->rounds_reaped, 1, __ATOMIC_RELAXED);
    }
    if (!opt->dry_run && !opt->round && clean && !out->root_alive && !out->no_registry)
        out->registry_unlinked = registry_unlink(s->uid, s->id) == 0;
    free(dirs);
    proctable_free(&p.pt);
    out->millis = now_ms() - start;
    return clean ? 0 : 1;
}

int reap_orphans(const struct tracked_key *keys, size_t n, uint32_t uid, const struct reap_options *opt,
                 struct reap_result *out)
{
    double start = now_ms();
    memset(out, 0, sizeof *out);
    out->dry_run = opt->dry_run;
    out->no_registry = 1;
    /* no session: an empty cookie, so any process naming a session is
     * another session's (eligible() leaves it alone) */
    struct session none = {.uid = uid};
    struct plan p = {.s = &none, .r = out, .opt = opt};
    cr_strlcpy(p.cookie, "CHROMEREAPER_SESSION=", sizeof p.cookie);
    proctable_snapshot(&p.pt);
    for (size_t i = 0; i < n; i++) {
        struct proc_node *node = proctable_find(&p.pt, keys[i].pid);
        if (node && node->start_time == keys[i].start_time)
            add_target(&p, node, FOUND_ORPHAN, CR_ROLE_UNKNOWN);
    }
    add_descendants(&p);
    if (!opt->dry_run)
        kill_processes(&p);
    else
        order_leaves_first(&p);
    proctable_free(&p.pt);
    out->millis = now_ms() - start;
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
    static const char *const names[] = {"registry", "descendant", "cookie", "orphan"};
    return names[f];
}

const char *dir_action_name(enum dir_action a)
{
    static const char *const names[] = {"planned", "removed", "absent", "kept", "failed"};
    return names[a];
}
