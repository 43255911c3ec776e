#include "doctor.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "browserexe.h"
#include "dirsize.h"
#include "leak.h"
#include "procfs.h"
#include "proctable.h"
#include "safestr.h"
#include "session.h"
#include "usage.h"

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 16;
    void *p = realloc(v, *cap * size);
    if (!p)
        abort();
    return p;
}

static double uptime_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double age_of(uint64_t start_ticks)
{
    static long hz;
    if (!hz)
        hz = sysconf(_SC_CLK_TCK);
    return uptime_sec() - (double)start_ticks / (double)(hz > 0 ? hz : 100);
}

void doctor_survey_sessions(struct doctor *d)
{
    char (*ids)[CR_SESSION_MAX] = NULL;
    size_t n = session_list(d->uid, &ids);
    for (size_t i = 0; i < n; i++) {
        struct session s;
        char why[160] = "";
        enum cr_registry_status st = session_load(&s, d->uid, ids[i], 0, why, sizeof why);
        if (st == CR_REG_OK && !session_is_stale(&s)) {
            session_free(&s);
            continue;
        }
        if (st == CR_REG_MISSING || st == CR_REG_REAPED)
            continue; /* gone meanwhile */
        d->sessions = grow(d->sessions, &d->sessions_cap, d->nsessions, sizeof *d->sessions);
        struct stale_session *ss = &d->sessions[d->nsessions++];
        memset(ss, 0, sizeof *ss);
        cr_strlcpy(ss->id, ids[i], sizeof ss->id);
        char path[128];
        struct stat sb;
        if (registry_path(path, sizeof path, d->uid, ids[i]) == 0 && stat(path, &sb) == 0) {
            ss->bytes = (uint64_t)sb.st_blocks * 512;
            ss->age_sec = difftime(time(NULL), sb.st_mtime);
        }
        if (st == CR_REG_OK) {
            ss->root = s.root_pid;
            ss->age_sec = difftime(time(NULL), (time_t)s.reg.hdr->created_unix);
            session_free(&s);
        } else {
            cr_strlcpy(ss->problem, why, sizeof ss->problem);
        }
    }
    free(ids);
}

/* Processes live sessions claim: their records (pid and start time). */
struct claim {
    struct tracked_key key;
    UT_hash_handle hh;
};

static void claims_load(uint32_t uid, struct claim **claims)
{
    char (*ids)[CR_SESSION_MAX] = NULL;
    size_t n = session_list(uid, &ids);
    for (size_t i = 0; i < n; i++) {
        struct session s;
        char why[160];
        if (session_load(&s, uid, ids[i], 0, why, sizeof why) != CR_REG_OK)
            continue;
        struct tracked *t, *tmp;
        HASH_ITER(hh, s.procs, t, tmp) {
            struct claim *c;
            HASH_FIND(hh, *claims, &t->key, sizeof t->key, c);
            if (c)
                continue;
            c = calloc(1, sizeof *c);
            if (!c)
                abort();
            c->key = t->key;
            HASH_ADD(hh, *claims, key, sizeof c->key, c);
        }
        session_free(&s);
    }
    free(ids);
}

static void claims_free(struct claim **claims)
{
    struct claim *c, *tmp;
    HASH_ITER(hh, *claims, c, tmp) {
        HASH_DEL(*claims, c);
        free(c);
    }
}

/* Claimed: a session's record names it (a stale session's too: reaping
 * that session is its business), or its environment names a session. */
static int claimed(struct claim *claims, const struct proc_node *n)
{
    struct tracked_key key = {.pid = n->pid, .start_time = n->start_time};
    struct claim *c;
    HASH_FIND(hh, claims, &key, sizeof key, c);
    if (c)
        return 1;
    char env[131072];
    size_t len;
    if (proc_file_read(n->pid, "environ", env, sizeof env, &len) < 0)
        return 0;
    for (size_t i = 0; i < len; i += strlen(env + i) + 1) {
        const char *v = cr_env_value(env + i, "CHROMEREAPER_SESSION");
        if (v && *v)
            return 1;
    }
    return 0;
}

static void comm_of(pid_t pid, char *out, size_t cap)
{
    size_t len;
    if (proc_file_read(pid, "comm", out, cap, &len) < 0)
        len = 0;
    while (len && (out[len - 1] == '\n' || out[len - 1] == '\0'))
        len--;
    out[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (out[i] < 0x20 || out[i] > 0x7e)
            out[i] = '?';
}

/* Orphaned: adopted by init or by a subreaper.  No /proc file says that a
 * process is a subreaper; a user's systemd (a systemd that is not pid 1)
 * is one by design, and is where a desktop's orphans go. */
static int orphaned(const struct proc_node *n, char *parent, size_t cap)
{
    if (n->ppid == 1) {
        cr_strlcpy(parent, "init (1)", cap);
        return 1;
    }
    char comm[32];
    comm_of(n->ppid, comm, sizeof comm);
    snprintf(parent, cap, "%s (%d)", comm[0] ? comm : "?", (int)n->ppid);
    return strcmp(comm, "systemd") == 0;
}

struct candidate {
    struct proc_node *node;
    struct leak_facts facts;
    char parent[64];
    int leaked;
};

static uint64_t rss_of(pid_t pid)
{
    char statm[256];
    size_t len;
    unsigned long long size = 0, resident = 0;
    if (proc_file_read(pid, "statm", statm, sizeof statm, &len) == 0)
        sscanf(statm, "%llu %llu", &size, &resident);
    long page = sysconf(_SC_PAGESIZE);
    return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

static void add_proc(struct doctor *d, const struct proc_node *n, pid_t root, int depth,
                     enum cr_role role, const char *parent, const char *why)
{
    d->procs = grow(d->procs, &d->procs_cap, d->nprocs, sizeof *d->procs);
    struct leaked_proc *p = &d->procs[d->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = n->pid;
    p->ppid = n->ppid;
    p->start_time = n->start_time;
    p->root = root;
    p->depth = depth;
    p->role = role;
    p->age_sec = age_of(n->start_time);
    p->rss = rss_of(n->pid);
    proc_exe_read(n->pid, p->exe, sizeof p->exe);
    cr_strlcpy(p->parent, parent, sizeof p->parent);
    cr_strlcpy(p->why, why, sizeof p->why);
}

static int is_leaked(const struct doctor *d, pid_t pid)
{
    for (size_t i = 0; i < d->nprocs; i++)
        if (d->procs[i].pid == pid)
            return 1;
    return 0;
}

/* A root's live descendants: what dies with it (the kill walks the same). */
static void add_descendants(struct doctor *d, const struct proctable *pt, struct claim *claims,
                            const struct proc_node *n, pid_t root, int depth)
{
    for (size_t c = 0; c < n->nchildren && depth < 64; c++) {
        struct proc_node *k = proctable_find(pt, n->children[c]);
        if (!k || k->uid != d->uid || k->state == 'Z' || k->kthread || is_leaked(d, k->pid) ||
            claimed(claims, k))
            continue;
        char parent[64];
        orphaned(k, parent, sizeof parent);
        add_proc(d, k, root, depth, browserexe_role_of_pid(k->pid), parent, "");
        add_descendants(d, pt, claims, k, root, depth + 1);
    }
}

static void why_leaked(const struct candidate *c, char *out, size_t cap)
{
    snprintf(out, cap, "parent is %s", c->node->ppid == 1 ? "init" : "a subreaper");
    const char *more = NULL;
    switch (c->facts.role) {
    case CR_ROLE_DRIVER: more = "its bot is gone"; break;
    case CR_ROLE_BROWSER: more = "driver gone"; break;
    case CR_ROLE_CRASHPAD: more = "no client"; break;
    default: more = "its browser is gone"; break;
    }
    cr_strlcat(out, "; ", cap);
    cr_strlcat(out, more, cap);
}

/* A crash handler serves a browser when a client of it (a holder of one
 * of its sockets' peers) is alive and not leaked, or is a handler that
 * serves one: a --monitor-self handler and the handler watching it hold
 * each other's sockets.  Marks c->facts.client_alive of every handler;
 * when the kernel does not say who the peers are, every one serves. */
static void mark_serving(const struct doctor *d, struct candidate *cands, size_t ncands)
{
    struct usage u;
    usage_scan(&u, NULL, 0, NULL, NULL);
    for (size_t i = 0; i < ncands; i++)
        cands[i].facts.client_alive = 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < ncands; i++) {
            struct candidate *c = &cands[i];
            if (c->facts.role != CR_ROLE_CRASHPAD || c->facts.client_alive)
                continue;
            pid_t peers[64];
            int n = usage_socket_peers(&u, c->node->pid, peers, 64);
            int serving = n < 0;
            for (int k = 0; k < n && !serving; k++) {
                const struct candidate *peer = NULL;
                for (size_t j = 0; j < ncands && !peer; j++)
                    if (cands[j].node->pid == peers[k])
                        peer = &cands[j];
                if (peer && peer->facts.role == CR_ROLE_CRASHPAD)
                    serving = peer->facts.client_alive;
                else
                    serving = !is_leaked(d, peers[k]);
            }
            if (serving)
                c->facts.client_alive = changed = 1;
        }
    }
    usage_free(&u);
}

/* The leaked candidates (crash handlers only, or all but them) and what
 * descends from each. */
static void add_leaks(struct doctor *d, const struct proctable *pt, struct claim *claims,
                      const struct candidate *cands, size_t ncands, int crashpads)
{
    for (size_t i = 0; i < ncands; i++) {
        const struct candidate *c = &cands[i];
        if ((c->facts.role == CR_ROLE_CRASHPAD) != crashpads || is_leaked(d, c->node->pid) ||
            leak_process(&c->facts) != LEAK_YES)
            continue;
        char why[160];
        why_leaked(c, why, sizeof why);
        add_proc(d, c->node, c->node->pid, 0, c->facts.role, c->parent, why);
        add_descendants(d, pt, claims, c->node, c->node->pid, 1);
    }
}

void doctor_survey_processes(struct doctor *d)
{
    struct proctable pt;
    proctable_snapshot(&pt);
    struct claim *claims = NULL;
    claims_load(d->uid, &claims);
    struct candidate *cands = NULL;
    size_t ncands = 0, cap = 0;
    struct proc_node *n, *tmp;
    HASH_ITER(hh, pt.by_pid, n, tmp) {
        if (n->uid != d->uid)
            continue; /* LEAK_OTHER_UID: nothing more to read */
        enum cr_role role = browserexe_role_of_pid(n->pid);
        if (!role_is_browser_stack(role))
            continue;
        cands = grow(cands, &cap, ncands, sizeof *cands);
        struct candidate *c = &cands[ncands++];
        memset(c, 0, sizeof *c);
        c->node = n;
        c->facts.not_a_target = n->pid <= 1 || n->kthread || n->state == 'Z' ||
                                proctable_is_self_or_ancestor(&pt, n->pid);
        c->facts.role = role;
        c->facts.orphaned = orphaned(n, c->parent, sizeof c->parent);
        char cmdline[16384];
        size_t len = 0;
        if (proc_file_read(n->pid, "cmdline", cmdline, sizeof cmdline, &len) < 0)
            len = 0;
        c->facts.automated = leak_cmdline_automated(cmdline, len);
        c->facts.claimed = claimed(claims, n);
        char cgroup[4096];
        size_t clen;
        c->facts.in_service = proc_file_read(n->pid, "cgroup", cgroup, sizeof cgroup, &clen) == 0 &&
                              leak_cgroup_is_service(cgroup);
        c->facts.old_enough = age_of(n->start_time) >= d->older_than;
        c->facts.client_alive = 1; /* decided below, once the rest is known */
    }
    /* everything but crash handlers first, with what descends from them;
     * then crash handlers that serve no live browser */
    add_leaks(d, &pt, claims, cands, ncands, 0);
    mark_serving(d, cands, ncands);
    add_leaks(d, &pt, claims, cands, ncands, 1);
    free(cands);
    claims_free(&claims);
    proctable_free(&pt);
}

/* /tmp, /dev/shm and $TMPDIR, canonical and each once. */
static size_t temp_roots(char roots[3][PATH_MAX])
{
    const char *tmpdir = getenv("TMPDIR");
    const char *candidates[] = {"/tmp", "/dev/shm", tmpdir && tmpdir[0] == '/' ? tmpdir : NULL};
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        char real[PATH_MAX];
        if (!candidates[i] || !realpath(candidates[i], real))
            continue;
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= strcmp(roots[k], real) == 0;
        if (!dup)
            cr_strlcpy(roots[n++], real, PATH_MAX);
    }
    return n;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct leftover *)a)->path, ((const struct leftover *)b)->path);
}

struct pick {
    const struct doctor *d;
    int leaked; /* pick the leaked processes, or the others */
};

static int pick_by_leak(pid_t pid, void *ctx)
{
    const struct pick *p = ctx;
    return is_leaked(p->d, pid) == p->leaked;
}

/* What live processes use in the temp roots: those `pick` picks (NULL: all). */
static void scan_temp_usage(struct usage *u, char roots[3][PATH_MAX], size_t nroots, struct pick *pick)
{
    char *rootv[3];
    for (size_t i = 0; i < nroots; i++)
        rootv[i] = roots[i];
    usage_scan(u, rootv, nroots, pick ? pick_by_leak : NULL, pick);
}

/* A directory a leaked process uses is planned whatever its age (the leak
 * is old enough, and keeps writing into its profile until it dies); one
 * that another live process uses is not. */
void doctor_survey_dirs(struct doctor *d)
{
    char roots[3][PATH_MAX];
    size_t nroots = temp_roots(roots);
    struct pick others = {d, 0}, leaked = {d, 1};
    struct usage u, by_leaks;
    scan_temp_usage(&u, roots, nroots, &others);
    scan_temp_usage(&by_leaks, roots, nroots, &leaked);
    time_t now = time(NULL);
    for (size_t r = 0; r < nroots; r++) {
        DIR *dir = opendir(roots[r]);
        struct dirent *de;
        while (dir && (de = readdir(dir)) != NULL) {
            struct leftover_facts f = {.kind = leftover_kind(de->d_name)};
            if (!f.kind)
                continue;
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", roots[r], de->d_name);
            struct stat sb;
            if (lstat(path, &sb) < 0)
                continue;
            f.is_dir = S_ISDIR(sb.st_mode);
            f.other_uid = sb.st_uid != d->uid;
            f.in_use = usage_in_use(&u, path);
            f.old_enough = difftime(now, sb.st_mtime) >= d->older_than || usage_in_use(&by_leaks, path);
            if (leftover_dir(&f) != LEFTOVER_YES || strlen(path) >= sizeof d->dirs->path)
                continue;
            d->dirs = grow(d->dirs, &d->dirs_cap, d->ndirs, sizeof *d->dirs);
            struct leftover *l = &d->dirs[d->ndirs++];
            memset(l, 0, sizeof *l);
            cr_strlcpy(l->path, path, sizeof l->path);
            l->kind = f.kind;
            l->age_sec = difftime(now, sb.st_mtime);
            l->bytes = dir_usage(path);
            l->dev = (uint64_t)sb.st_dev;
            l->ino = (uint64_t)sb.st_ino;
        }
        if (dir)
            closedir(dir);
    }
    usage_free(&u);
    usage_free(&by_leaks);
    if (d->ndirs > 1)
        qsort(d->dirs, d->ndirs, sizeof *d->dirs, by_path);
}

/* Right before removal (the survey ran before the leaked processes were
 * killed): a directory some live process uses now is kept. */
void doctor_recheck_dirs(struct doctor *d)
{
    char roots[3][PATH_MAX];
    size_t nroots = temp_roots(roots);
    struct usage u;
    scan_temp_usage(&u, roots, nroots, NULL);
    for (size_t i = 0; i < d->ndirs; i++)
        d->dirs[i].in_use_now = usage_in_use(&u, d->dirs[i].path);
    usage_free(&u);
}

void doctor_free(struct doctor *d)
{
    free(d->procs);
    free(d->dirs);
    free(d->sessions);
    memset(d, 0, sizeof *d);
}
