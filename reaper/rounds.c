#include "rounds.h"

#include <stdlib.h>

#include "procfs.h"
#include "role.h"

struct pid_bucket {
    pid_t pid;
    struct tracked **v;
    size_t n, cap;
    UT_hash_handle hh;
};

static void *grow(void *v, size_t *cap, size_t elem)
{
    *cap = *cap ? *cap * 2 : 8;
    void *p = realloc(v, *cap * elem);
    if (!p)
        abort();
    return p;
}

/* The record a process came from: its creator's fork/spawn record, else the
 * parent its own constructor saw.  Of several processes that had that pid,
 * the latest one started no later than the child. */
static struct tracked *parent_of(struct pid_bucket *index, const struct tracked *t)
{
    pid_t link = t->creator ? t->creator : t->ppid;
    struct pid_bucket *b = NULL;
    if (link <= 0)
        return NULL;
    HASH_FIND_INT(index, &link, b);
    struct tracked *best = NULL;
    for (size_t i = 0; b && i < b->n; i++) {
        struct tracked *c = b->v[i];
        if (c != t && c->key.start_time <= t->key.start_time &&
            (!best || c->key.start_time > best->key.start_time))
            best = c;
    }
    return best;
}

static struct tracked *find_round_root(struct tracked *t)
{
    struct tracked *root = NULL;
    for (int hops = 0; t && hops < 256; hops++) {
        if (role_is_browser_stack(t->role))
            root = t;
        else if (root)
            break; /* a non-browser creator ends the round (the bot) */
        t = t->parent;
    }
    return root;
}

static struct round *round_for(struct rounds *rs, struct tracked *root)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->v[i].root == root)
            return &rs->v[i];
    if (rs->n == rs->cap)
        rs->v = grow(rs->v, &rs->cap, sizeof *rs->v);
    struct round *r = &rs->v[rs->n++];
    *r = (struct round){.root = root, .reaped = 1};
    return r;
}

void rounds_build(struct rounds *rs, struct session *s)
{
    *rs = (struct rounds){0};
    struct pid_bucket *index = NULL, *b, *btmp;
    struct tracked *t, *tmp;
    HASH_ITER(hh, s->procs, t, tmp) {
        /* a namespace-local pid names nobody in the host's pid space: such
         * records belong to no round and are no one's parent (the
         * descendant walk reaches those processes) */
        if (t->flags & CR_ENTRY_PIDNS)
            continue;
        HASH_FIND_INT(index, &t->key.pid, b);
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b)
                abort();
            b->pid = t->key.pid;
            HASH_ADD_INT(index, pid, b);
        }
        if (b->n == b->cap)
            b->v = grow(b->v, &b->cap, sizeof *b->v);
        b->v[b->n++] = t;
    }
    HASH_ITER(hh, s->procs, t, tmp) {
        if (t->flags & CR_ENTRY_PIDNS)
            continue;
        t->parent = parent_of(index, t);
        if (t->parent)
            t->parent->is_link = 1;
    }
    HASH_ITER(hh, s->procs, t, tmp) {
        if (t->flags & CR_ENTRY_PIDNS)
            continue;
        t->round_root = find_round_root(t);
        if (!t->round_root)
            continue;
        struct round *r = round_for(rs, t->round_root);
        if (r->nmembers == r->members_cap)
            r->members = grow(r->members, &r->members_cap, sizeof *r->members);
        r->members[r->nmembers++] = t;
        r->reaped &= t->reaped;
    }
    /* a round owns the directories its processes made with mkdtemp; a
     * --user-data-dir is the bot's (it may reuse it for the next browser),
     * so only the session's end decides on it */
    struct tracked_dir *d, *dtmp;
    HASH_ITER(hh, s->dirs, d, dtmp) {
        if (!d->from_mkdtemp)
            continue;
        struct tracked_key key = {.pid = d->creator, .start_time = d->creator_start};
        HASH_FIND(hh, s->procs, &key, sizeof key, t);
        if (!t || !t->round_root)
            continue;
        struct round *r = round_for(rs, t->round_root);
        if (r->ndirs == r->dirs_cap)
            r->dirs = grow(r->dirs, &r->dirs_cap, sizeof *r->dirs);
        r->dirs[r->ndirs++] = d;
        r->reaped &= d->reaped;
    }
    HASH_ITER(hh, index, b, btmp) {
        HASH_DEL(index, b);
        free(b->v);
        free(b);
    }
}

void rounds_free(struct rounds *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].members);
        free(rs->v[i].dirs);
    }
    free(rs->v);
    *rs = (struct rounds){0};
}

int rounds_bot_side(const struct tracked *t)
{
    return !t->round_root && !role_is_browser_stack(t->role) && !(t->flags & CR_ENTRY_PIDNS);
}

int rounds_bot_alive(const struct session *s)
{
    struct tracked *t, *tmp;
    HASH_ITER(hh, s->procs, t, tmp) {
        struct proc_stat st;
        if (!rounds_bot_side(t))
            continue;
        if (proc_stat_read(t->key.pid, &st) == 0 && st.start_time == t->key.start_time &&
            st.state != 'Z')
            return 1;
    }
    return 0;
}
