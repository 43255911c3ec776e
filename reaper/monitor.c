#include "monitor.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "history.h"
#include "log.h"
#include "pidlist.h"
#include "procfs.h"
#include "reap.h"
#include "report.h"
#include "rounds.h"
#include "safestr.h"

/* A rescan at least this often, even when nothing seems to have changed:
 * a root we could not pin with a pidfd is noticed this way. */
#define RESCAN_MS 1000.0
/* Rounds get a short grace: leftovers must be gone within a second. */
#define ROUND_GRACE_MAX 0.5

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int monitor_init(struct monitor *m, const char *session, uint32_t uid, double grace_sec)
{
    memset(m, 0, sizeof *m);
    cr_strlcpy(m->session, session, sizeof m->session);
    m->uid = uid;
    m->grace_sec = grace_sec < ROUND_GRACE_MAX ? grace_sec : ROUND_GRACE_MAX;
    m->bot_alive = 1;
    if (registry_open(&m->reg, uid, session, 0, NULL, 0) != CR_REG_OK) {
        memset(&m->reg, 0, sizeof m->reg); /* monitor_tick retries */
        return -1;
    }
    return 0;
}

void monitor_free(struct monitor *m)
{
    for (size_t i = 0; i < m->nroots; i++)
        close(m->roots[i].pidfd);
    free(m->roots);
    free(m->roots_seen_alive.v);
    free(m->rounds_done.v);
    dirseen_free(&m->seen);
    settle_clock_free(&m->settling);
    registry_close(&m->reg);
    memset(m, 0, sizeof *m);
}

static int alive(const struct tracked *t)
{
    struct proc_stat st;
    return proc_stat_read(t->key.pid, &st) == 0 && st.start_time == t->key.start_time &&
           st.state != 'Z';
}

static int key_set_has(const struct key_set *ks, const struct tracked_key *k)
{
    for (size_t i = 0; i < ks->n; i++)
        if (memcmp(&ks->v[i], k, sizeof *k) == 0)
            return 1;
    return 0;
}

static void key_set_add(struct key_set *ks, const struct tracked_key *k)
{
    if (key_set_has(ks, k))
        return;
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 16;
        struct tracked_key *v = realloc(ks->v, ks->cap * sizeof *v);
        if (!v)
            abort();
        ks->v = v;
    }
    ks->v[ks->n++] = *k;
}

static int pidfd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* Pins a live round root (or a process of the bot's side), so its exit is
 * noticed on the next tick. */
static void watch_root(struct monitor *m, const struct tracked *root)
{
    for (size_t i = 0; i < m->nroots; i++)
        if (memcmp(&m->roots[i].key, &root->key, sizeof root->key) == 0)
            return;
    int fd = (int)syscall(SYS_pidfd_open, root->key.pid, 0);
    if (fd < 0)
        return; /* the periodic rescan covers it */
    if (!alive(root)) {
        close(fd);
        return;
    }
    if (m->nroots == m->roots_cap) {
        m->roots_cap = m->roots_cap ? m->roots_cap * 2 : 8;
        struct watched_root *r = realloc(m->roots, m->roots_cap * sizeof *r);
        if (!r)
            abort();
        m->roots = r;
    }
    m->roots[m->nroots++] = (struct watched_root){.key = root->key, .pidfd = fd};
}

static int any_root_exited(struct monitor *m)
{
    int exited = 0;
    for (size_t i = 0; i < m->nroots;) {
        if (pidfd_readable(m->roots[i].pidfd)) {
            close(m->roots[i].pidfd);
            m->roots[i] = m->roots[--m->nroots];
            exited = 1;
        } else {
            i++;
        }
    }
    return exited;
}

/* Nothing is at the path any more: a temporary directory the browser
 * removed itself. */
static int dir_gone(const char *path)
{
    struct stat st;
    return lstat(path, &st) < 0 && (errno == ENOENT || errno == ENOTDIR);
}

/* Alive, with the identity check, but without reading the stat of a pid
 * that /proc did not even list (listed after the session was loaded, so
 * every recorded process alive then is in it). */
static int alive_listed(const struct pidlist *live, const struct tracked *t)
{
    return pidlist_may_hold(live, t->key.pid) && alive(t);
}

/* When the table is half full, free what no longer matters: records of dead
 * processes outside any live round, and of rounds reaped, except those that
 * link a live record to its round; and records of temporary directories
 * verifiably gone while their round lives.  One /proc listing a pass: a
 * supervised bot that forks all day leaves thousands of records of dead
 * processes, and their stat files need not be opened to know it. */
static void recycle(struct session *s, const struct pidlist *live)
{
    if (s->nentry_refs * 2 < s->reg.entry_capacity && s->ndir_refs * 2 < s->reg.dir_capacity)
        return;
    for (size_t i = 0; i < s->ndir_refs; i++) {
        struct record_ref *ref = &s->dir_refs[i];
        if (!ref->reaped && ref->dir->from_mkdtemp && dir_gone(ref->dir->path))
            ref->reaped = registry_dir_transition(&s->reg, ref->slot, ref->seq, CR_SLOT_COMMITTED,
                                                  CR_SLOT_REAPED);
    }
    for (size_t i = 0; i < s->nentry_refs; i++) {
        struct record_ref *ref = &s->entry_refs[i];
        struct tracked *t = ref->proc;
        /* namespace-local records (sandboxed renderers) never decide a kill
         * (the descendant walk finds those processes) and cannot be checked
         * for life by pid: under pressure they are only `ls` detail */
        if (!ref->reaped && ((t->flags & CR_ENTRY_PIDNS) || !alive_listed(live, t)))
            ref->reaped = registry_entry_transition(&s->reg, ref->slot, ref->seq, CR_SLOT_COMMITTED,
                                                    CR_SLOT_REAPED);
    }
    size_t freed = 0;
    for (size_t i = 0; i < s->nentry_refs; i++) {
        struct record_ref *ref = &s->entry_refs[i];
        struct tracked *t = ref->proc;
        /* the round's root is looked at only for a link record */
        if (ref->reaped && (!t->is_link || !t->round_root || t->round_root->reaped ||
                            !alive_listed(live, t->round_root)))
            freed += (size_t)registry_entry_transition(&s->reg, ref->slot, ref->seq,
                                                       CR_SLOT_REAPED, CR_SLOT_EMPTY);
    }
    for (size_t i = 0; i < s->ndir_refs; i++) {
        struct record_ref *ref = &s->dir_refs[i];
        if (ref->reaped)
            freed += (size_t)registry_dir_transition(&s->reg, ref->slot, ref->seq, CR_SLOT_REAPED,
                                                     CR_SLOT_EMPTY);
    }
    log_msg(LOG_DEBUG, "session %s: freed %zu registry records", s->id, freed);
}

/* The profiles live browsers of the session were started with: a browser
 * whose environment carries the session's cookie (the browser's main
 * process keeps its environment), seen while it runs. */
static void observe_browsers(struct monitor *m, const struct session *s)
{
    char cookie[CR_SESSION_MAX + 32] = "CHROMEREAPER_SESSION=";
    cr_strlcat(cookie, s->id, sizeof cookie);
    struct tracked *t, *tmp;
    HASH_ITER(hh, s->procs, t, tmp) {
        if (!(t->flags & CR_ENTRY_PIDNS) && t->role == CR_ROLE_BROWSER && alive(t))
            dirseen_observe(&m->seen, t->key.pid, cookie);
    }
}

static int members_reaped(const struct round *r)
{
    for (size_t i = 0; i < r->nmembers; i++)
        if (!r->members[i]->reaped)
            return 0;
    return 1;
}

static int reap_finished_rounds(struct monitor *m, struct session *s)
{
    struct rounds rs;
    rounds_build(&rs, s);
    int reaped = 0;
    for (size_t i = 0; i < rs.n; i++) {
        struct round *r = &rs.v[i];
        /* a round whose processes are all reaped is done: what its reap
         * could not remove (a directory something writes into, one the bot
         * keeps until the session ends) is not gone at again every tick */
        if (r->reaped || (key_set_has(&m->rounds_done, &r->root->key) && members_reaped(r)))
            continue;
        if (alive(r->root)) {
            key_set_add(&m->roots_seen_alive, &r->root->key);
            watch_root(m, r->root);
            continue;
        }
        if (settle_round_waiting(&m->settling, r, m->round_settle_sec, now_ms() / 1e3))
            continue;
        key_set_add(&m->rounds_done, &r->root->key);
        struct reap_options opt = {.grace_sec = m->grace_sec, .spare_root = 1, .round = r, .seen = &m->seen,
                                   .round_root_seen = key_set_has(&m->roots_seen_alive, &r->root->key)};
        struct reap_result res;
        reap_session(s, &opt, &res);
        metrics_reaped(m->metrics, &res, 1);
        reaped++;
        size_t killed = reap_count(&res, OUTCOME_TERMINATED) + reap_count(&res, OUTCOME_KILLED);
        if (m->history)
            history_reap(m->history, &res, REASON_ROUND_ENDED, &r->root->key);
        log_msg(LOG_INFO, "session %s: round of %s %d ended: %zu processes killed, %zu directories removed, %zu survived, %.0f ms",
                s->id, role_name(r->root->role), (int)r->root->key.pid, killed,
                reap_count_dirs(&res, DIR_REMOVED), reap_count(&res, OUTCOME_SURVIVED), res.millis);
        log_report(LOG_DEBUG, &res);
        reap_result_free(&res);
        r->reaped = 1;
        r->root->reaped = 1;
    }
    reaped += breaker_apply(m->limits, s, &rs, m->grace_sec, &m->seen, m->history);
    /* one /proc listing for the rest of the tick: the bot side of a bot
     * that forks all day is thousands of records of dead processes */
    struct pidlist live;
    pidlist_take(&live);
    struct tracked *t, *tmp;
    HASH_ITER(hh, s->procs, t, tmp) {
        if (rounds_bot_side(t) && pidlist_may_hold(&live, t->key.pid))
            watch_root(m, t);
    }
    m->bot_alive = rounds_bot_alive(s);
    recycle(s, &live);
    pidlist_free(&live);
    rounds_free(&rs);
    return reaped;
}

int monitor_tick(struct monitor *m)
{
    struct stat st;
    char path[128];
    if (!m->reg.hdr && registry_open(&m->reg, m->uid, m->session, 0, NULL, 0) != CR_REG_OK)
        return -1;
    if (registry_path(path, sizeof path, m->uid, m->session) < 0 || stat(path, &st) < 0)
        return -1;
    uint64_t next = __atomic_load_n(&m->reg.hdr->entry_next, __ATOMIC_ACQUIRE);
    int exited = any_root_exited(m);
    double now = now_ms();
    if (!exited && next == m->seen_next && now - m->last_scan_ms < RESCAN_MS)
        return 0;
    m->seen_next = next;
    m->last_scan_ms = now;
    struct session s;
    char why[160];
    /* a tick never waits for the lock: the next tick tries again */
    enum cr_registry_status rs = session_load_locked(&s, m->uid, m->session, 0, why, sizeof why);
    if (rs != CR_REG_OK) {
        log_msg(LOG_DEBUG, "session %s: %s", m->session, why);
        /* an unreadable registry hides the bot's side: the root alone decides */
        if (rs == CR_REG_CORRUPT || rs == CR_REG_FOREIGN || rs == CR_REG_VERSION)
            m->bot_alive = 0;
        return rs == CR_REG_MISSING || rs == CR_REG_REAPED ? -1 : 0;
    }
    observe_browsers(m, &s);
    if (m->history)
        history_observe(m->history, &s);
    int reaped = reap_finished_rounds(m, &s);
    session_free(&s);
    m->rounds_reaped += (uint32_t)reaped;
    return reaped;
}
