#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rounds.h"
#include "safestr.h"

static double now_unix(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double read_boot_unix(void)
{
    FILE *f = fopen("/proc/stat", "re");
    char line[256];
    unsigned long long btime = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    if (f)
        fclose(f);
    return (double)btime;
}

void history_init(struct history *h, int keep_records)
{
    memset(h, 0, sizeof *h);
    h->keep_records = keep_records;
    h->started_unix = now_unix();
    h->boot_unix = read_boot_unix();
    h->ticks_per_sec = sysconf(_SC_CLK_TCK);
    if (h->ticks_per_sec <= 0)
        h->ticks_per_sec = 100;
}

void history_free(struct history *h)
{
    struct hist_proc *p, *pt;
    HASH_ITER(hh, h->procs, p, pt) {
        HASH_DEL(h->procs, p);
        free(p);
    }
    struct hist_dir *d, *dt;
    HASH_ITER(hh, h->dirs, d, dt) {
        HASH_DEL(h->dirs, d);
        free(d);
    }
    free(h->rounds);
    free(h->reaps);
    memset(h, 0, sizeof *h);
}

double history_unix_time(const struct history *h, uint64_t start_ticks)
{
    return h->boot_unix + (double)start_ticks / (double)h->ticks_per_sec;
}

static void *grow(void *v, size_t *cap, size_t elem)
{
    *cap = *cap ? *cap * 2 : 16;
    void *p = realloc(v, *cap * elem);
    if (!p)
        abort();
    return p;
}

static int round_index(struct history *h, const struct tracked_key *root, enum cr_role role)
{
    for (size_t i = h->nrounds; i-- > 0;) /* the newest rounds are asked about most */
        if (memcmp(&h->rounds[i].root, root, sizeof *root) == 0)
            return (int)i;
    if (h->nrounds == h->rounds_cap)
        h->rounds = grow(h->rounds, &h->rounds_cap, sizeof *h->rounds);
    h->rounds[h->nrounds] = (struct hist_round){.root = *root, .role = role, .reap = -1};
    return (int)h->nrounds++;
}

static struct hist_proc *proc_for(struct history *h, const struct tracked_key *key)
{
    struct hist_proc *p;
    HASH_FIND(hh, h->procs, key, sizeof *key, p);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->key = *key;
    p->round = -1;
    p->reap = -1;
    HASH_ADD(hh, h->procs, key, sizeof p->key, p);
    return p;
}

static struct hist_dir *dir_for(struct history *h, const char *path)
{
    struct hist_dir *d;
    HASH_FIND_STR(h->dirs, path, d);
    if (d)
        return d;
    d = calloc(1, sizeof *d);
    if (!d)
        abort();
    cr_strlcpy(d->path, path, sizeof d->path);
    d->round = -1;
    d->reap = -1;
    HASH_ADD_STR(h->dirs, path, d);
    return d;
}

/* Processes seen alive before and gone now exited on their own (a reap
 * that ended them has said so already); so did round roots. */
static void note_exits(struct history *h)
{
    double now = now_unix();
    struct hist_proc *p, *pt;
    HASH_ITER(hh, h->procs, p, pt) {
        if (p->end_unix == 0 && p->outcome == HIST_RUNNING && !tracked_key_alive(&p->key)) {
            p->outcome = HIST_EXITED;
            p->end_unix = now;
        }
    }
    for (size_t i = 0; i < h->nrounds; i++)
        if (h->rounds[i].end_unix == 0 && !tracked_key_alive(&h->rounds[i].root))
            h->rounds[i].end_unix = now;
}

void history_observe(struct history *h, struct session *s)
{
    if (!h->keep_records)
        return;
    struct rounds rs;
    rounds_build(&rs, s);
    struct tracked *t, *tt;
    HASH_ITER(hh, s->procs, t, tt) {
        if (t->flags & CR_ENTRY_PIDNS)
            continue; /* a namespace-local pid names nobody here: found as a descendant */
        struct hist_proc *p = proc_for(h, &t->key);
        p->ppid = t->ppid;
        p->seen_mask |= t->seen_mask;
        p->found_by = FOUND_REGISTRY;
        if (t->role != CR_ROLE_UNKNOWN && (p->role == CR_ROLE_UNKNOWN || t->self_recorded))
            p->role = t->role;
        if (t->exe[0] && (!p->exe[0] || t->self_recorded))
            cr_strlcpy(p->exe, t->exe, sizeof p->exe);
        if (t->round_root)
            p->round = round_index(h, &t->round_root->key, t->round_root->role);
        if (t->reaped && p->outcome == HIST_RUNNING && p->end_unix == 0) {
            p->outcome = HIST_EXITED; /* verified dead by a reaper before we saw it */
            p->end_unix = now_unix();
        }
    }
    for (size_t i = 0; i < rs.n; i++)
        round_index(h, &rs.v[i].root->key, rs.v[i].root->role);
    struct tracked_dir *d, *dt;
    HASH_ITER(hh, s->dirs, d, dt) {
        struct hist_dir *hd = dir_for(h, d->path);
        /* a record settled by an earlier reap no longer says its origin */
        if (d->from_mkdtemp)
            hd->origin = "mkdtemp";
        else if (d->origins && !hd->origin)
            hd->origin = "user-data-dir";
        struct tracked_key ck = {.pid = d->creator, .start_time = d->creator_start};
        struct tracked *c = NULL;
        HASH_FIND(hh, s->procs, &ck, sizeof ck, c);
        if (c && c->round_root && hd->round < 0)
            hd->round = round_index(h, &c->round_root->key, c->round_root->role);
    }
    rounds_free(&rs);
    note_exits(h);
}

static enum hist_outcome outcome_of(enum target_outcome o)
{
    switch (o) {
    case OUTCOME_TERMINATED: return HIST_SIGTERM;
    case OUTCOME_KILLED: return HIST_SIGKILL;
    case OUTCOME_SURVIVED: return HIST_SURVIVED;
    default: return HIST_EXITED;
    }
}

void history_reap(struct history *h, const struct reap_result *r, enum reap_reason why,
                  const struct tracked_key *round_root)
{
    if (r->dry_run)
        return;
    for (size_t i = 0; i < r->ntargets; i++)
        h->leaked_procs += (size_t)history_proc_is_leak(r->targets[i].outcome);
    for (size_t i = 0; i < r->ndirs; i++)
        h->leaked_dirs += (size_t)history_dir_is_leak(r->dirs[i].path, r->dirs[i].action);
    if (!h->keep_records)
        return;
    double now = now_unix();
    int round = round_root ? round_index(h, round_root, CR_ROLE_UNKNOWN) : -1;
    if (h->nreaps == h->reaps_cap)
        h->reaps = grow(h->reaps, &h->reaps_cap, sizeof *h->reaps);
    int reap = (int)h->nreaps++;
    h->reaps[reap] = (struct hist_reap){
        .unix_time = now, .reason = why, .round = round, .millis = r->millis,
        .dirs_removed = reap_count_dirs(r, DIR_REMOVED),
        .signalled = reap_count(r, OUTCOME_TERMINATED) + reap_count(r, OUTCOME_KILLED) +
                     reap_count(r, OUTCOME_SURVIVED),
    };
    if (round >= 0 && h->rounds[round].reap < 0)
        h->rounds[round].reap = reap;
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct target *t = &r->targets[i];
        struct tracked_key key = {.pid = t->pid, .start_time = t->start_time};
        struct hist_proc *p = proc_for(h, &key);
        if (!p->seen_mask)
            p->found_by = t->found_by;
        if (!p->ppid)
            p->ppid = t->ppid;
        if (t->role != CR_ROLE_UNKNOWN && t->role != CR_ROLE_OTHER)
            p->role = t->role;
        if (!p->exe[0])
            cr_strlcpy(p->exe, t->exe, sizeof p->exe);
        if (p->round < 0)
            p->round = round;
        if (p->outcome != HIST_RUNNING && p->outcome != HIST_SURVIVED)
            continue; /* ended before: this reap found it by a reused record */
        p->outcome = outcome_of(t->outcome);
        p->reap = history_proc_is_leak(t->outcome) ? reap : -1;
        if (p->outcome != HIST_SURVIVED && !p->end_unix)
            p->end_unix = now;
    }
    for (size_t i = 0; i < r->ndirs; i++) {
        const struct dir_result *d = &r->dirs[i];
        struct hist_dir *hd = dir_for(h, d->path);
        if (!hd->origin)
            hd->origin = d->origin;
        if (hd->round < 0)
            hd->round = round;
        hd->handled = 1;
        hd->action = d->action;
        hd->reap = reap;
        cr_strlcpy(hd->why, d->why, sizeof hd->why);
    }
    note_exits(h);
}

void history_finish(struct history *h)
{
    if (h->keep_records)
        note_exits(h);
    h->ended_unix = now_unix();
}

const char *hist_outcome_name(enum hist_outcome o)
{
    static const char *const names[] = {"running", "exited", "reaped-sigterm", "reaped-sigkill",
                                        "survived"};
    return names[o];
}

const char *reap_reason_name(enum reap_reason r)
{
    static const char *const names[] = {"round-ended", "session-ended", "max-browsers",
                                        "max-round-age", "max-rss"};
    return names[r];
}
