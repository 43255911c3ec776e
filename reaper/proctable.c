#include "proctable.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "pidfd.h"
#include "procfs.h"
#include "reaprules.h"
#include "safestr.h"

static void add_child(struct proc_node *parent, pid_t child)
{
    if (parent->nchildren == parent->children_cap) {
        size_t cap = parent->children_cap ? parent->children_cap * 2 : 4;
        pid_t *c = realloc(parent->children, cap * sizeof *c);
        if (!c)
            abort();
        parent->children = c;
        parent->children_cap = cap;
    }
    parent->children[parent->nchildren++] = child;
}

/* Asks the kernel about the pinned process: the pin_facts it gives. */
static void read_info(struct proctable *t, int fd, struct pin_facts *f, uid_t *uid, pid_t *ppid)
{
    f->info_read = f->info_gone = f->same_uid = 0;
    if (pidfd_uid(fd, uid, ppid) == 0)
        f->info_read = 1;
    else if (errno == ESRCH)
        f->info_gone = 1;
    else
        t->pin = 0; /* a kernel without PIDFD_GET_INFO: pin nothing */
    f->same_uid = f->info_read && *uid == t->pin_uid;
}

/* Reads what /proc says about `pid` into `out`, pinning it first when the
 * table pins (pin_judge says when what was read is the pinned process's).
 * A process of the pinned uid is pinned with no /proc read at all: the
 * kernel's answer for the pidfd gives its uid and parent, and its stat is
 * read only when a reap looks at it (proctable_facts), after the scan,
 * when the kills of what was judged meanwhile overlap it.  Returns 0, or
 * -1 when there is nothing to add. */
static int read_node(struct proctable *t, pid_t pid, struct proc_node *out)
{
    struct pin_facts f = {0};
    int fd = -1;
    if (t->pin && t->pinned < t->pin_budget) {
        fd = pidfd_pin(pid);
        f.pinned = fd >= 0;
        f.open_gone = fd < 0 && errno == ESRCH;
    }
    struct proc_stat st;
    struct proc_areas areas = {0};
    uid_t uid = 0;
    pid_t ppid = 0;
    if (f.pinned)
        read_info(t, fd, &f, &uid, &ppid);
    if (!f.open_gone && !f.info_gone && !(f.info_read && f.same_uid)) {
        f.stat_read = proc_stat_read_areas(pid, &st, &areas) == 0;
        /* another uid's, pinned: the stat is the pinned process's only if
         * it still held its pid once the stat was read */
        if (f.pinned && f.stat_read && f.info_read)
            read_info(t, fd, &f, &uid, &ppid);
    }
    enum pin_verdict v = pin_judge(&f);
    if (v != PIN_KEEP && fd >= 0) {
        close(fd);
        fd = -1;
    }
    /* a process that exits mid-scan is simply not in the snapshot */
    if (v == PIN_SKIP || (!f.info_read && proc_uid_read(pid, &uid) < 0))
        return -1;
    *out = (struct proc_node){.pid = pid, .ppid = ppid, .uid = uid, .pidfd = fd};
    if (f.stat_read) {
        out->areas = areas;
        out->ppid = st.ppid;
        out->start_time = st.start_time;
        out->state = st.state;
        out->kthread = (st.flags & PROC_PF_KTHREAD) != 0;
        out->facts = 1;
    }
    t->pinned += fd >= 0;
    return 0;
}

int proctable_facts(struct proc_node *n)
{
    if (n->facts == 0) {
        struct proc_stat st;
        uid_t uid;
        /* the pid is pinned: the stat is this process's if it had not been
         * reaped when the kernel answered for the pidfd after the read */
        if (proc_stat_read_areas(n->pid, &st, &n->areas) == 0 && pidfd_uid(n->pidfd, &uid, NULL) == 0) {
            n->start_time = st.start_time;
            n->state = st.state;
            n->kthread = (st.flags & PROC_PF_KTHREAD) != 0;
            n->facts = 1;
        } else {
            n->facts = -1;
        }
    }
    return n->facts > 0 ? 0 : -1;
}

static void drop_node(struct proctable *t, struct proc_node *n)
{
    HASH_DEL(t->by_pid, n);
    if (n->pidfd >= 0 && !n->pidfd_taken) {
        close(n->pidfd);
        t->pinned--;
    }
    free(n->children);
    free(n->exe);
    free(n->user_data_dir);
    free(n->cmdline);
    free(n);
}

/* 1 unless the node is still the process the pid names: a live pinned
 * process is (its pidfd said so, see mark_exited); an exited one while
 * the kernel says it was not reaped (a zombie keeps its pid); an unpinned
 * one while its start time is the same (its state and parent are
 * refreshed). */
static int node_stale(struct proc_node *n)
{
    if (n->pidfd >= 0) {
        uid_t uid;
        if (!n->exited)
            return 0;
        if (pidfd_uid(n->pidfd, &uid, NULL) < 0)
            return 1;
        n->state = 'Z';
        return 0;
    }
    struct proc_stat st;
    if (proc_stat_read(n->pid, &st) < 0 || st.start_time != n->start_time)
        return 1;
    n->ppid = st.ppid;
    n->state = st.state;
    return 0;
}

/* Which pinned processes exited since the last scan: one poll over all. */
static void mark_exited(struct proctable *t)
{
    size_t n = 0, i = 0;
    struct proc_node *node, *tmp;
    HASH_ITER(hh, t->by_pid, node, tmp) {
        n += node->pidfd >= 0 && !node->exited;
    }
    if (!n)
        return;
    struct pollfd *fds = calloc(n, sizeof *fds);
    struct proc_node **who = calloc(n, sizeof *who);
    if (!fds || !who)
        abort();
    HASH_ITER(hh, t->by_pid, node, tmp) {
        if (node->pidfd >= 0 && !node->exited) {
            fds[i] = (struct pollfd){.fd = node->pidfd, .events = POLLIN};
            who[i++] = node;
        }
    }
    if (poll(fds, n, 0) > 0)
        for (i = 0; i < n; i++)
            who[i]->exited = fds[i].revents != 0;
    free(fds);
    free(who);
}

static void link_children(struct proctable *t)
{
    struct proc_node *n, *tmp;
    HASH_ITER(hh, t->by_pid, n, tmp) {
        n->nchildren = 0;
    }
    HASH_ITER(hh, t->by_pid, n, tmp) {
        struct proc_node *parent = proctable_find(t, n->ppid);
        if (parent)
            add_child(parent, n->pid);
    }
}

/* One pass over /proc: what is new is read, what changed is read again,
 * what is gone is dropped.  Returns how many nodes were added, -1 if /proc
 * cannot be listed. */
static long scan(struct proctable *t)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    unsigned scan = ++t->scans;
    long added = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t pid;
        if (cr_parse_u64(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX)
            continue;
        struct proc_node *n = proctable_find(t, (pid_t)pid);
        if (n && !node_stale(n)) {
            n->seen = scan;
            continue;
        }
        if (n)
            drop_node(t, n);
        struct proc_node fresh;
        if (read_node(t, (pid_t)pid, &fresh) < 0)
            continue;
        n = malloc(sizeof *n);
        if (!n)
            abort();
        *n = fresh;
        n->seen = scan;
        n->fresh = scan;
        HASH_ADD_INT(t->by_pid, pid, n);
        added++;
    }
    closedir(d);
    struct proc_node *n, *tmp;
    HASH_ITER(hh, t->by_pid, n, tmp) {
        if (n->seen != scan)
            drop_node(t, n);
    }
    /* A process that died had its children reparented, but a pinned one
     * alive was not read again and still names its pid: when a new process
     * has that pid now, read their parents again, so that none passes for
     * its child. */
    if (added && scan > 1) {
        HASH_ITER(hh, t->by_pid, n, tmp) {
            struct proc_node *parent = proctable_find(t, n->ppid);
            struct proc_stat st;
            uid_t uid;
            pid_t ppid;
            if (!parent || parent->fresh != scan || n->fresh == scan)
                continue;
            if (n->pidfd >= 0) {
                /* pinned, and alive at the listing: its parent from the kernel */
                if (pidfd_uid(n->pidfd, &uid, &ppid) < 0)
                    drop_node(t, n);
                else
                    n->ppid = ppid;
            } else if (proc_stat_read(n->pid, &st) < 0 || st.start_time != n->start_time) {
                drop_node(t, n);
            } else {
                n->ppid = st.ppid;
            }
        }
    }
    link_children(t);
    return added;
}

static int snapshot(struct proctable *t, int pin, uid_t uid, size_t budget)
{
    *t = (struct proctable){.self = getpid(), .pin = pin, .pin_uid = uid, .pin_budget = budget};
    return scan(t) < 0 ? -1 : 0;
}

int proctable_snapshot(struct proctable *t)
{
    return snapshot(t, 0, 0, 0);
}

int proctable_snapshot_pinned(struct proctable *t, uid_t uid, size_t budget)
{
    return snapshot(t, 1, uid, budget);
}

size_t proctable_refresh(struct proctable *t)
{
    mark_exited(t);
    long added = scan(t);
    return added > 0 ? (size_t)added : 0;
}

int proctable_take_pidfd(struct proc_node *n)
{
    if (n->pidfd < 0 || n->pidfd_taken)
        return -1;
    n->pidfd_taken = 1;
    return n->pidfd;
}

void proctable_free(struct proctable *t)
{
    struct proc_node *n, *tmp;
    HASH_ITER(hh, t->by_pid, n, tmp) {
        drop_node(t, n);
    }
}

struct proc_node *proctable_find(const struct proctable *t, pid_t pid)
{
    struct proc_node *n = NULL;
    HASH_FIND_INT(t->by_pid, &pid, n);
    return n;
}

int proctable_is_self_or_ancestor(const struct proctable *t, pid_t pid)
{
    pid_t p = t->self;
    for (int hops = 0; p > 0 && hops < 4096; hops++) {
        if (p == pid)
            return 1;
        struct proc_node *n = proctable_find(t, p);
        if (!n)
            break;
        p = n->ppid;
    }
    return 0;
}
