#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pidns.h"
#include "procfs.h"
#include "rounds.h"
#include "safestr.h"

const char *seen_name(int seen)
{
    static const char *const names[] = {
        [CR_SEEN_CONSTRUCTOR] = "constructor", [CR_SEEN_FORK] = "fork",
        [CR_SEEN_EXEC] = "exec",               [CR_SEEN_SPAWN] = "spawn",
        [CR_SEEN_ROOT] = "root",               [CR_SEEN_EXEC_FAILED] = "exec-failed",
    };
    return seen >= 1 && seen <= CR_SEEN_MAX ? names[seen] : "?";
}

/* The process's own records (constructor, exec) know its image; a parent's
 * fork or spawn record is only a guess, whatever order they landed in. */
static int is_self_record(uint32_t seen)
{
    return seen == CR_SEEN_CONSTRUCTOR || seen == CR_SEEN_ROOT || seen == CR_SEEN_EXEC ||
           seen == CR_SEEN_EXEC_FAILED;
}

static struct tracked *merge_entry(struct session *s, const struct cr_entry *e, uint32_t slot)
{
    struct tracked_key key = {.pid = e->pid, .start_time = e->start_time};
    struct tracked *t = NULL;
    HASH_FIND(hh, s->procs, &key, sizeof key, t);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            abort();
        t->key = key;
        t->first_slot = slot;
        t->reaped = 1;
        HASH_ADD(hh, s->procs, key, sizeof key, t);
    }
    int self = is_self_record(e->seen_by);
    t->seen_mask |= 1u << e->seen_by;
    t->flags |= e->flags;
    t->reaped &= CR_SLOT_STATE(e->state) == CR_SLOT_REAPED;
    if (self || !t->self_recorded) {
        t->role = (enum cr_role)e->role;
        t->ppid = e->ppid;
        if (e->exe[0])
            cr_strlcpy(t->exe, e->exe, sizeof t->exe);
        t->self_recorded |= self;
    }
    if (e->seen_by == CR_SEEN_FORK || e->seen_by == CR_SEEN_SPAWN)
        t->creator = e->ppid;
    return t;
}

/* A browser records the --user-data-dir of its command line as a directory
 * record of its own pid and start time: that is the profile `ls` shows for
 * it (entries carry none, to stay small).  Later records win. */
static void attach_profile(struct session *s, const struct cr_dir *d)
{
    struct tracked_key key = {.pid = d->pid, .start_time = d->start_time};
    struct tracked *t = NULL;
    if (d->origin != CR_DIR_USER_DATA_DIR)
        return;
    HASH_FIND(hh, s->procs, &key, sizeof key, t);
    if (t)
        cr_strlcpy(t->profile_dir, d->path, sizeof t->profile_dir);
}

static struct tracked_dir *merge_dir(struct session *s, const struct cr_dir *d)
{
    struct tracked_dir *t = NULL;
    HASH_FIND_STR(s->dirs, d->path, t);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            abort();
        cr_strlcpy(t->path, d->path, sizeof t->path);
        t->absent_at_launch = -1;
        t->reaped = 1;
        HASH_ADD_STR(s->dirs, path, t);
    }
    int reaped = CR_SLOT_STATE(d->state) == CR_SLOT_REAPED;
    t->reaped &= reaped;
    t->shown_mkdtemp |= d->origin == CR_DIR_MKDTEMP;
    /* A record an earlier reap settled says nothing about the path now: the
     * bot may have made a directory of its own there since (a profile that
     * was absent when round 1 launched is not absent for round 2). */
    if (reaped) {
        if (!t->creator) { /* only for `ls` to show it in its round */
            t->creator = d->pid;
            t->creator_start = d->start_time;
            t->creator_settled = 1;
        }
        return t;
    }
    t->origins |= 1u << d->origin;
    if (!t->creator || t->creator_settled) {
        t->creator = d->pid;
        t->creator_start = d->start_time;
        t->creator_settled = 0;
    }
    if (d->origin == CR_DIR_MKDTEMP) {
        /* the creator's own record is the identity that counts */
        t->from_mkdtemp = 1;
        t->dev = d->dev;
        t->ino = d->ino;
        t->have_identity = 1;
        t->creator = d->pid;
        t->creator_start = d->start_time;
    } else {
        if (t->absent_at_launch < 0)
            t->absent_at_launch = (d->flags & CR_DIR_ABSENT_AT_LAUNCH) != 0;
        /* matched by identity, not path: the latest launch's directory is
         * the one at the path now (a bot may make its profile anew for
         * each browser); a mkdtemp record's identity stays (the creator's) */
        if (!t->from_mkdtemp && !(d->flags & CR_DIR_ABSENT_AT_LAUNCH)) {
            t->dev = d->dev;
            t->ino = d->ino;
            t->have_identity = 1;
        }
    }
    return t;
}

/* Copies of the slots that hold records, kept while they are sorted.  Sized
 * by what the registry holds, never by its capacity: a sparse file (a few
 * kilobytes on disk) can claim 2^24 entries and 2^16 directories, and one
 * array of that many slot copies is more memory than the machine has. */
struct entry_copy {
    uint32_t slot;
    struct cr_entry e;
};

struct dir_copy {
    uint32_t slot;
    struct cr_dir d;
};

static void *grow(void *v, size_t *cap, size_t elem)
{
    *cap = *cap ? *cap * 2 : 64;
    void *p = realloc(v, *cap * elem);
    if (!p)
        abort();
    return p;
}

static int by_entry_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct entry_copy *)a)->e.seq, y = ((const struct entry_copy *)b)->e.seq;
    return x < y ? -1 : x > y;
}

static int by_dir_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct dir_copy *)a)->d.seq, y = ((const struct dir_copy *)b)->d.seq;
    return x < y ? -1 : x > y;
}

/* "corrupt registry: <what>" into why. */
static enum cr_registry_status corrupt(char *why, size_t why_len, const char *what)
{
    if (why && why_len) {
        cr_strlcpy(why, "corrupt registry: ", why_len);
        cr_strlcat(why, what, why_len);
    }
    return CR_REG_CORRUPT;
}

/* Two records can never share a sequence number: each append takes its own
 * from the counter, and a record never moves to another slot. */
static enum cr_registry_status duplicate_seq(const char *what, uint32_t a_slot, uint32_t b_slot,
                                             uint64_t seq, char *why, size_t why_len)
{
    char msg[160];
    snprintf(msg, sizeof msg, "%s %u and %u have the same sequence number %llu", what, a_slot, b_slot,
             (unsigned long long)seq);
    return corrupt(why, why_len, msg);
}

/* Slots are reused, so slot order is not append order: merge by sequence.
 * The first committed slot that no writer can have written fails the whole
 * load (registry_entry_check says which ones); empty and half-written
 * (reserved) slots are skipped. */
static enum cr_registry_status load_entries(struct session *s, char *why, size_t why_len)
{
    uint32_t n = registry_entry_count(&s->reg);
    size_t k = 0, cap = 0;
    struct entry_copy *c = NULL, one;
    char what[160];
    for (uint32_t i = 0; i < n; i++) {
        enum cr_slot_check ck = registry_entry_check(&s->reg, i, &one.e, what, sizeof what);
        if (ck == CR_CHECK_CORRUPT) {
            free(c);
            return corrupt(why, why_len, what);
        }
        if (ck != CR_CHECK_OK)
            continue;
        if (k == cap)
            c = grow(c, &cap, sizeof *c);
        one.slot = i;
        c[k++] = one;
    }
    if (k)
        qsort(c, k, sizeof *c, by_entry_seq);
    for (size_t i = 1; i < k; i++)
        if (c[i - 1].e.seq == c[i].e.seq) {
            enum cr_registry_status st = duplicate_seq("entries", c[i - 1].slot, c[i].slot, c[i].e.seq,
                                                       why, why_len);
            free(c);
            return st;
        }
    s->entry_refs = calloc(k ? k : 1, sizeof *s->entry_refs);
    if (!s->entry_refs)
        abort();
    for (size_t i = 0; i < k; i++) {
        struct record_ref *r = &s->entry_refs[s->nentry_refs++];
        r->slot = c[i].slot;
        r->seq = c[i].e.seq;
        r->reaped = CR_SLOT_STATE(c[i].e.state) == CR_SLOT_REAPED;
        r->proc = merge_entry(s, &c[i].e, c[i].slot);
    }
    free(c);
    return CR_REG_OK;
}

static enum cr_registry_status load_dirs(struct session *s, char *why, size_t why_len)
{
    uint32_t n = registry_dir_count(&s->reg);
    size_t k = 0, cap = 0;
    struct dir_copy *c = NULL;
    struct cr_dir one;
    char what[160];
    for (uint32_t i = 0; i < n; i++) {
        enum cr_slot_check ck = registry_dir_check(&s->reg, i, &one, what, sizeof what);
        if (ck == CR_CHECK_CORRUPT) {
            free(c);
            return corrupt(why, why_len, what);
        }
        if (ck != CR_CHECK_OK)
            continue;
        if (k == cap)
            c = grow(c, &cap, sizeof *c);
        c[k].slot = i;
        c[k++].d = one;
    }
    if (k)
        qsort(c, k, sizeof *c, by_dir_seq);
    for (size_t i = 1; i < k; i++)
        if (c[i - 1].d.seq == c[i].d.seq) {
            enum cr_registry_status st = duplicate_seq("directories", c[i - 1].slot, c[i].slot,
                                                       c[i].d.seq, why, why_len);
            free(c);
            return st;
        }
    s->dir_refs = calloc(k ? k : 1, sizeof *s->dir_refs);
    if (!s->dir_refs)
        abort();
    for (size_t i = 0; i < k; i++) {
        struct record_ref *r = &s->dir_refs[s->ndir_refs++];
        r->slot = c[i].slot;
        r->seq = c[i].d.seq;
        r->reaped = CR_SLOT_STATE(c[i].d.state) == CR_SLOT_REAPED;
        r->dir = merge_dir(s, &c[i].d);
        attach_profile(s, &c[i].d);
    }
    free(c);
    return CR_REG_OK;
}

static enum cr_registry_status session_load_as(struct session *s, uint32_t uid, const char *id, int writable,
                                               double lock_wait_sec, char *why, size_t why_len);

/* What registry_open's header validation cannot know: the header must name
 * the session whose path it was opened under (a hard link or a copy of
 * another session's registry is not this session's), and its counters must
 * be ones appends can produce.  The live header is read with bounded
 * accesses only: any process of the uid can rewrite it at any time. */
static enum cr_registry_status check_header(const struct session *s, char *why, size_t why_len)
{
    char named[CR_SESSION_MAX], what[160];
    memcpy(named, s->reg.hdr->session, sizeof named);
    named[sizeof named - 1] = '\0';
    if (strcmp(named, s->id) != 0) {
        snprintf(what, sizeof what, "its header names session \"%.*s\"", 40, named);
        return corrupt(why, why_len, what);
    }
    if (s->root_pid < 0) {
        snprintf(what, sizeof what, "root pid %d", (int)s->root_pid);
        return corrupt(why, why_len, what);
    }
    if (registry_check_counters(&s->reg, what, sizeof what) != CR_REG_OK)
        return corrupt(why, why_len, what);
    return CR_REG_OK;
}

enum cr_registry_status session_load(struct session *s, uint32_t uid, const char *id, int writable,
                                     char *why, size_t why_len)
{
    return writable ? session_load_locked(s, uid, id, SESSION_LOCK_WAIT_SEC, why, why_len)
                    : session_load_as(s, uid, id, 0, 0, why, why_len);
}

enum cr_registry_status session_load_locked(struct session *s, uint32_t uid, const char *id,
                                            double lock_wait_sec, char *why, size_t why_len)
{
    return session_load_as(s, uid, id, 1, lock_wait_sec, why, why_len);
}

static enum cr_registry_status session_load_as(struct session *s, uint32_t uid, const char *id, int writable,
                                               double lock_wait_sec, char *why, size_t why_len)
{
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    if (writable && (s->lock_fd = registry_lock(uid, id, lock_wait_sec)) < 0 &&
        (errno == ENOENT || errno == ESTALE || errno == EWOULDBLOCK)) {
        static const char *const says[] = {"no registry for this session", "reaped meanwhile by another reaper",
                                           "locked by another process (another reaper?) for too long"};
        int k = errno == ENOENT ? 0 : errno == ESTALE ? 1 : 2;
        if (why && why_len)
            cr_strlcpy(why, says[k], why_len);
        return k == 0 ? CR_REG_MISSING : k == 1 ? CR_REG_REAPED : CR_REG_BUSY;
    }
    /* EPERM (another uid's file, a wrong mode) and the rest: registry_open
     * says what is wrong with it */
    enum cr_registry_status st = registry_open(&s->reg, uid, id, writable, why, why_len);
    if (st != CR_REG_OK) {
        if (s->lock_fd >= 0)
            close(s->lock_fd);
        s->lock_fd = -1;
        return st;
    }
    cr_strlcpy(s->id, id, sizeof s->id);
    s->uid = uid;
    s->writable = writable;
    char path[128];
    struct stat fst;
    if (registry_path(path, sizeof path, uid, id) == 0 && stat(path, &fst) == 0) {
        s->reg_dev = fst.st_dev;
        s->reg_ino = fst.st_ino;
    }
    s->root_pid = __atomic_load_n(&s->reg.hdr->root_pid, __ATOMIC_ACQUIRE);
    s->root_start_time = s->reg.hdr->root_start_time;
    s->entries = registry_entry_count(&s->reg);
    s->overflow = registry_overflow(&s->reg);
    s->rounds_reaped = __atomic_load_n(&s->reg.hdr->rounds_reaped, __ATOMIC_ACQUIRE);
    s->processes_reaped = __atomic_load_n(&s->reg.hdr->processes_reaped, __ATOMIC_ACQUIRE);
    s->dirs_removed = __atomic_load_n(&s->reg.hdr->dirs_removed, __ATOMIC_ACQUIRE);
    /* a corrupt registry is refused whole: nothing in it can be trusted */
    st = check_header(s, why, why_len);
    /* its pids name other processes in another PID namespace: a reaper in a
     * container (or outside one) must not judge the session's life by them */
    uint64_t ns = s->reg.hdr->pidns, own = registry_own_pidns();
    if (st == CR_REG_OK && ns && own && ns != own) {
        /* unless that namespace is gone: then no process of the session
         * can be alive, and only its directories are left to judge */
        s->pidns_gone = pidns_verdict_of(ns) == PIDNS_GONE;
        if (!s->pidns_gone && why && why_len)
            snprintf(why, why_len, "the registry belongs to another PID namespace (pid:[%llu], this is pid:[%llu])",
                     (unsigned long long)ns, (unsigned long long)own);
        if (!s->pidns_gone)
            st = CR_REG_FOREIGN;
        s->root_pid = 0;
    }
    if (st == CR_REG_OK && !s->pidns_gone)
        st = load_entries(s, why, why_len);
    if (st == CR_REG_OK)
        st = load_dirs(s, why, why_len);
    if (st != CR_REG_OK)
        session_free(s);
    return st;
}

void session_free(struct session *s)
{
    struct tracked *t, *tt;
    HASH_ITER(hh, s->procs, t, tt) {
        HASH_DEL(s->procs, t);
        free(t);
    }
    struct tracked_dir *d, *dt;
    HASH_ITER(hh, s->dirs, d, dt) {
        HASH_DEL(s->dirs, d);
        free(d);
    }
    free(s->entry_refs);
    free(s->dir_refs);
    s->entry_refs = s->dir_refs = NULL; /* session_load frees what it refuses */
    s->nentry_refs = s->ndir_refs = 0;
    registry_close(&s->reg);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
}

void session_cookie_only(struct session *s, uint32_t uid, const char *id)
{
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    s->uid = uid;
    cr_strlcpy(s->id, id, sizeof s->id);
}

int tracked_key_alive(const struct tracked_key *k)
{
    struct proc_stat st;
    return proc_stat_read(k->pid, &st) == 0 && st.start_time == k->start_time && st.state != 'Z';
}

int session_root_alive(const struct session *s)
{
    struct proc_stat st;
    if (s->root_pid <= 0)
        return 0;
    return proc_stat_read(s->root_pid, &st) == 0 && st.start_time == s->root_start_time &&
           st.state != 'Z';
}

int session_is_stale(struct session *s)
{
    if (s->pidns_gone)
        return 1;
    if (s->root_pid > 0 ? session_root_alive(s) : (uint64_t)time(NULL) <= s->reg.hdr->created_unix + 60)
        return 0;
    /* a daemonized bot keeps its session */
    struct rounds rs;
    rounds_build(&rs, s);
    int bot = rounds_bot_alive(s);
    rounds_free(&rs);
    return !bot;
}

size_t session_list(uint32_t uid, char (**ids)[CR_SESSION_MAX])
{
    char prefix[64] = CR_REGISTRY_PREFIX;
    char num[24];
    cr_utoa(uid, num, sizeof num);
    cr_strlcat(prefix, num, sizeof prefix);
    cr_strlcat(prefix, "-", sizeof prefix);
    size_t plen = strlen(prefix), n = 0, cap = 0;
    *ids = NULL;
    DIR *d = opendir(CR_REGISTRY_DIR);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, plen) != 0 || !session_id_valid(de->d_name + plen))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            void *p = realloc(*ids, cap * sizeof **ids);
            if (!p)
                abort();
            *ids = p;
        }
        cr_strlcpy((*ids)[n++], de->d_name + plen, CR_SESSION_MAX);
    }
    closedir(d);
    return n;
}
