/* chromereaper ls: the sessions of a uid, or what one session's browser
 * actually spawned (registry records joined with the live process table). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "appliedflags.h"
#include "escape.h"
#include "json.h"
#include "procfs.h"
#include "proctable.h"
#include "report.h"
#include "role.h"
#include "rounds.h"
#include "safestr.h"
#include "session.h"

/* One row: a tracked process, or a live descendant the registry missed. */
struct row {
    pid_t pid, ppid;
    uint64_t start_time;
    enum cr_role role;
    const char *state; /* live, exited, zombie, reaped */
    const char *source; /* registry or descendant */
    struct tracked *t;  /* its records, or NULL for a descendant the registry lacks */
    uint32_t seen_mask;
    char exe[CR_EXE_MAX];
    char profile_dir[CR_DIR_PATH_MAX];
    char subtype[32]; /* a live utility's service: "network" for "utility:network" */
    pid_t nslocal;    /* the pid a record made inside a PID namespace gave it, or 0 */
    int hidden;       /* a namespace-local record folded into the live row it names */
    int printed;
    long parent, first_child, next_sibling; /* row indexes, -1 for none (link_rows) */
};

struct rows {
    struct row *v;
    size_t n, cap;
};

static struct row *rows_add(struct rows *r)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v)
            abort();
    }
    memset(&r->v[r->n], 0, sizeof r->v[0]);
    return &r->v[r->n++];
}

static int rows_has(const struct rows *r, pid_t pid, uint64_t start)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].pid == pid && r->v[i].start_time == start)
            return 1;
    return 0;
}

/* The role of a live process from its executable and command line, and a utility's
 * sub-type (kept out of the registry: only the live command line says). */
static enum cr_role live_role(pid_t pid, char *subtype, size_t cap)
{
    char buf[8192], exe[PATH_MAX];
    size_t len;
    subtype[0] = '\0';
    if (proc_exe_read(pid, exe, sizeof exe) < 0 || proc_file_read(pid, "cmdline", buf, sizeof buf, &len) < 0)
        return CR_ROLE_UNKNOWN;
    enum cr_role role = role_classify_cmdline(exe, buf, len);
    if (role == CR_ROLE_UTILITY)
        role_utility_subtype_cmdline(buf, len, subtype, cap);
    return role;
}

/* Records made inside a PID namespace (Chrome's sandboxed zygote and what
 * it forks) carry namespace-local pids: fold each into the live row of
 * the session that it names (lib/procfs: proc_nslocal_match), so the row
 * says the registry knows it.  Only rows already in the session's tree
 * are candidates; a record that names none stays as it is. */
static void fold_namespace_records(struct rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        struct row *r = &rows->v[i];
        if (!r->t || !(r->t->flags & CR_ENTRY_PIDNS))
            continue;
        for (size_t k = 0; k < rows->n; k++) {
            struct row *live = &rows->v[k];
            if (live->nslocal || strcmp(live->state, "live") != 0 ||
                proc_nslocal_match(live->pid, live->ppid, r->pid, r->ppid) != 1)
                continue;
            live->nslocal = r->pid;
            live->source = "registry";
            live->seen_mask |= r->seen_mask;
            r->hidden = r->printed = 1;
            break;
        }
    }
}

/* "utility:network", or the role's name. */
static const char *row_role(const struct row *r, char *buf, size_t cap)
{
    if (r->role != CR_ROLE_UTILITY || !r->subtype[0])
        return role_name(r->role);
    snprintf(buf, cap, "%s:%s", role_name(r->role), r->subtype);
    return buf;
}

static void collect(const struct session *s, const struct proctable *pt, struct rows *rows)
{
    struct tracked *t, *tmp;
    HASH_ITER(hh, s->procs, t, tmp) {
        struct row *r = rows_add(rows);
        r->pid = t->key.pid;
        r->ppid = t->ppid;
        r->start_time = t->key.start_time;
        r->role = t->role;
        r->seen_mask = t->seen_mask;
        r->source = "registry";
        r->t = t;
        cr_strlcpy(r->exe, t->exe, sizeof r->exe);
        cr_strlcpy(r->profile_dir, t->profile_dir, sizeof r->profile_dir);
        struct proc_node *n = proctable_find(pt, t->key.pid);
        int live = n && n->start_time == t->key.start_time && !(t->flags & CR_ENTRY_PIDNS);
        r->state = live ? (n->state == 'Z' ? "zombie" : "live") : t->reaped ? "reaped" : "exited";
        if (live) {
            r->ppid = n->ppid;
            enum cr_role role = live_role(n->pid, r->subtype, sizeof r->subtype);
            if (role != CR_ROLE_UNKNOWN && (role != CR_ROLE_OTHER || !role_is_browser_stack(r->role)))
                r->role = role;
        }
    }
    /* live descendants of live tracked processes that the registry lacks */
    for (size_t i = 0; i < rows->n; i++) {
        if (strcmp(rows->v[i].state, "live") != 0)
            continue;
        struct proc_node *n = proctable_find(pt, rows->v[i].pid);
        for (size_t c = 0; n && c < n->nchildren; c++) {
            struct proc_node *k = proctable_find(pt, n->children[c]);
            if (!k || rows_has(rows, k->pid, k->start_time))
                continue;
            struct row *r = rows_add(rows); /* may move rows->v: n stays valid */
            r->pid = k->pid;
            r->ppid = k->ppid;
            r->start_time = k->start_time;
            r->role = live_role(k->pid, r->subtype, sizeof r->subtype);
            r->state = k->state == 'Z' ? "zombie" : "live";
            r->source = "descendant";
            proc_exe_read(k->pid, r->exe, sizeof r->exe);
        }
    }
    fold_namespace_records(rows);
}

static void seen_list(FILE *out, uint32_t mask, int json)
{
    int first = 1;
    for (int i = 1; i <= CR_SEEN_MAX; i++) {
        if (!(mask & (1u << i)))
            continue;
        fprintf(out, json ? "%s\"%s\"" : "%s%s", first ? "" : ",", seen_name(i));
        first = 0;
    }
    if (first && !json)
        fputs("-", out);
}

static void print_row(FILE *out, const struct row *r, int indent)
{
    if (r->hidden)
        return;
    char role[64];
    fprintf(out, "%*s%-8d %-8d %-16s %-7s %-10s ", indent * 2, "", (int)r->pid, (int)r->ppid,
            row_role(r, role, sizeof role), r->state, r->source);
    seen_list(out, r->seen_mask, 0);
    fputc(' ', out);
    text_escaped(out, r->exe);
    if (r->profile_dir[0]) {
        fputs("  profile=", out);
        text_escaped(out, r->profile_dir);
    }
    if (r->nslocal)
        fprintf(out, "  pidns-pid=%d", (int)r->nslocal);
    char flags[512];
    if (r->role == CR_ROLE_BROWSER && strcmp(r->state, "live") == 0 &&
        applied_chrome_flags(r->pid, flags, sizeof flags)) {
        fputs("  chrome-flags=\"", out);
        text_escaped(out, flags);
        fputc('"', out);
    }
    fputc('\n', out);
}

struct by_tracked {
    const struct tracked *t;
    long row;
    UT_hash_handle hh;
};

struct by_pid {
    pid_t pid;
    long *rows;
    size_t n, cap;
    UT_hash_handle hh;
};

/* Parent of a row: the record it was created from, else another row with
 * its ppid that started no later.  Computed once for all rows (hash maps),
 * so a tree of a full registry prints in linear time. */
static void link_rows(struct rows *rows)
{
    struct by_tracked *bt = NULL, *x, *xt;
    struct by_pid *bp = NULL, *y, *yt;
    for (size_t i = 0; i < rows->n; i++) {
        struct row *r = &rows->v[i];
        r->parent = r->first_child = r->next_sibling = -1;
        if (r->t) {
            x = calloc(1, sizeof *x);
            if (!x)
                abort();
            x->t = r->t;
            x->row = (long)i;
            HASH_ADD_PTR(bt, t, x);
        }
        HASH_FIND_INT(bp, &r->pid, y);
        if (!y) {
            y = calloc(1, sizeof *y);
            if (!y)
                abort();
            y->pid = r->pid;
            HASH_ADD_INT(bp, pid, y);
        }
        if (y->n == y->cap) {
            y->cap = y->cap ? y->cap * 2 : 2;
            y->rows = realloc(y->rows, y->cap * sizeof *y->rows);
            if (!y->rows)
                abort();
        }
        y->rows[y->n++] = (long)i;
    }
    for (size_t i = 0; i < rows->n; i++) {
        struct row *r = &rows->v[i];
        if (r->t && r->t->parent) {
            HASH_FIND_PTR(bt, &r->t->parent, x);
            r->parent = x ? x->row : -1;
        } else {
            HASH_FIND_INT(bp, &r->ppid, y);
            for (size_t k = 0; y && k < y->n && r->parent < 0; k++) {
                struct row *p = &rows->v[y->rows[k]];
                if (p != r && p->start_time <= r->start_time)
                    r->parent = y->rows[k];
            }
        }
    }
    /* children in row order: prepend while walking backwards */
    for (size_t i = rows->n; i-- > 0;) {
        struct row *r = &rows->v[i];
        if (r->parent >= 0) {
            r->next_sibling = rows->v[r->parent].first_child;
            rows->v[r->parent].first_child = (long)i;
        }
    }
    HASH_ITER(hh, bt, x, xt) {
        HASH_DEL(bt, x);
        free(x);
    }
    HASH_ITER(hh, bp, y, yt) {
        HASH_DEL(bp, y);
        free(y->rows);
        free(y);
    }
}

/* live: its root runs; exited: it ended and awaits its reap; reaped. */
static const char *round_state(const struct round *r)
{
    struct tracked_key k = r->root->key;
    struct proc_stat st;
    if (proc_stat_read(k.pid, &st) == 0 && st.start_time == k.start_time && st.state != 'Z')
        return "live";
    return r->reaped ? "reaped" : "exited";
}

static int round_live_members(const struct rows *rows, const struct round *r)
{
    int n = 0;
    for (size_t i = 0; i < rows->n; i++)
        n += rows->v[i].t && rows->v[i].t->round_root == r->root &&
             strcmp(rows->v[i].state, "live") == 0;
    return n;
}

static const struct rounds *shown_rounds;
static int fold_helpers; /* ls --tree without --helpers */

/* The /usr/bin/chromium launcher script runs uname, grep, expr, ls, tr,
 * findmnt... (and subshells) before it execs the browser under the same
 * pid: a dozen rows a round that say nothing.  Such a helper is a finished
 * process that is not part of the browser stack, or a finished fork of the
 * script that never exec'd (a subshell: it has the browser's role), with
 * only helpers below it.  The bot's own finished helpers fold the same way. */
static int is_helper(const struct rows *rows, const struct row *r)
{
    if (strcmp(r->state, "exited") != 0 && strcmp(r->state, "reaped") != 0)
        return 0;
    if (r->role != CR_ROLE_OTHER && !(r->role == CR_ROLE_BROWSER && !r->exe[0]))
        return 0;
    for (long c = r->first_child; c >= 0; c = rows->v[c].next_sibling)
        if (!is_helper(rows, &rows->v[c]))
            return 0;
    return 1;
}

struct folded {
    size_t n;
    char names[256]; /* " uname, grep," */
};

static void fold_subtree(struct rows *rows, struct row *r, struct folded *f)
{
    r->printed = 1;
    f->n++;
    const char *base = strrchr(r->exe, '/');
    base = base ? base + 1 : r->exe;
    char item[72];
    snprintf(item, sizeof item, " %.64s,", base);
    if (!base[0])
        snprintf(item, sizeof item, " %s,", "subshell");
    if (!strstr(f->names, item) && strlen(f->names) + strlen(item) < sizeof f->names)
        cr_strlcat(f->names, item, sizeof f->names);
    for (long c = r->first_child; c >= 0; c = rows->v[c].next_sibling)
        fold_subtree(rows, &rows->v[c], f);
}

/* One line for the helpers below r ("14 finished helpers: uname, grep,
 * ..."), which are then not printed on their own. */
static void print_helpers_folded(FILE *out, struct rows *rows, const struct row *r, int depth)
{
    struct folded f = {0};
    for (long c = r->first_child; c >= 0; c = rows->v[c].next_sibling)
        if (!rows->v[c].printed && is_helper(rows, &rows->v[c]))
            fold_subtree(rows, &rows->v[c], &f);
    if (!f.n)
        return;
    size_t len = strlen(f.names);
    if (len)
        f.names[len - 1] = '\0'; /* the last comma */
    fprintf(out, "%*s(%zu finished helper%s:%s; --helpers lists them)\n", depth * 2, "", f.n,
            f.n == 1 ? "" : "s", f.names);
}

static void print_subtree(FILE *out, struct rows *rows, struct row *r, int depth)
{
    if (r->printed)
        return;
    r->printed = 1;
    for (size_t i = 0; r->t && shown_rounds && i < shown_rounds->n; i++)
        if (shown_rounds->v[i].root == r->t) {
            const struct round *rd = &shown_rounds->v[i];
            fprintf(out, "%*s-- round %zu: %s %d, %s, %zu processes recorded, %d live, %zu directories\n",
                    depth * 2, "", i + 1, role_name(rd->root->role), (int)rd->root->key.pid,
                    round_state(rd), rd->nmembers, round_live_members(rows, rd), rd->ndirs);
        }
    print_row(out, r, depth);
    if (fold_helpers)
        print_helpers_folded(out, rows, r, depth + 1);
    for (long c = r->first_child; c >= 0; c = rows->v[c].next_sibling)
        print_subtree(out, rows, &rows->v[c], depth + 1);
}

static void print_dirs_text(FILE *out, const struct session *s)
{
    struct tracked_dir *d, *tmp;
    HASH_ITER(hh, s->dirs, d, tmp) {
        fprintf(out, "dir %-13s %-7s ", d->shown_mkdtemp ? "mkdtemp" : "user-data-dir",
                access(d->path, F_OK) == 0 ? "present" : "gone");
        text_escaped(out, d->path);
        fputc('\n', out);
    }
}

static void print_session_json(FILE *out, const struct session *s, const struct rows *rows,
                               const struct rounds *rs)
{
    fputs("{\"session\":", out);
    json_string(out, s->id);
    fprintf(out, ",\"root_pid\":%d,\"root_alive\":%s,\"entries\":%u,\"overflow\":%u,\"processes\":[",
            (int)s->root_pid, session_root_alive(s) ? "true" : "false", s->entries, s->overflow);
    for (size_t i = 0, shown = 0; i < rows->n; i++) {
        const struct row *r = &rows->v[i];
        if (r->hidden)
            continue;
        fprintf(out, "%s{\"pid\":%d,\"ppid\":%d,\"start_time\":%llu,\"role\":\"%s\","
                     "\"utility_sub_type\":\"%s\",\"pidns_pid\":%d,\"state\":\"%s\","
                     "\"source\":\"%s\",\"seen\":[",
                shown++ ? "," : "", (int)r->pid, (int)r->ppid, (unsigned long long)r->start_time,
                role_name(r->role), r->subtype, (int)r->nslocal, r->state, r->source);
        seen_list(out, r->seen_mask, 1);
        fprintf(out, "],\"round\":%d,\"exe\":",
                r->t && r->t->round_root ? (int)r->t->round_root->key.pid : 0);
        json_string(out, r->exe);
        fputs(",\"profile_dir\":", out);
        json_string(out, r->profile_dir);
        char flags[512] = "";
        if (r->role == CR_ROLE_BROWSER && strcmp(r->state, "live") == 0)
            applied_chrome_flags(r->pid, flags, sizeof flags);
        fputs(",\"chrome_flags\":", out); /* CHROMEREAPER_CHROME_FLAGS it carries */
        json_string(out, flags);
        fputc('}', out);
    }
    fputs("],\"directories\":[", out);
    int first = 1;
    struct tracked_dir *d, *tmp;
    HASH_ITER(hh, s->dirs, d, tmp) {
        fprintf(out, "%s{\"path\":", first ? "" : ",");
        json_string(out, d->path);
        fprintf(out, ",\"origin\":\"%s\",\"present\":%s}", d->shown_mkdtemp ? "mkdtemp" : "user-data-dir",
                access(d->path, F_OK) == 0 ? "true" : "false");
        first = 0;
    }
    fputs("],\"rounds\":[", out);
    for (size_t i = 0; i < rs->n; i++) {
        const struct round *r = &rs->v[i];
        fprintf(out, "%s{\"root_pid\":%d,\"role\":\"%s\",\"state\":\"%s\",\"processes\":%zu,"
                     "\"live\":%d,\"directories\":%zu}",
                i ? "," : "", (int)r->root->key.pid, role_name(r->root->role), round_state(r),
                r->nmembers, round_live_members(rows, r), r->ndirs);
    }
    fprintf(out, "],\"totals\":{\"rounds_reaped\":%u,\"processes_reaped\":%u,\"dirs_removed\":%u}}\n",
            s->rounds_reaped, s->processes_reaped, s->dirs_removed);
}

static int ls_session(uint32_t uid, const char *id, int tree, int json)
{
    struct session s;
    char why[160];
    if (session_load(&s, uid, id, 0, why, sizeof why) != CR_REG_OK) {
        report_session_error(id, why, json);
        return EXIT_REGISTRY;
    }
    struct proctable pt;
    proctable_snapshot(&pt);
    struct rounds rs;
    rounds_build(&rs, &s);
    struct rows rows = {0};
    collect(&s, &pt, &rows);
    link_rows(&rows);
    if (json) {
        print_session_json(stdout, &s, &rows, &rs);
    } else {
        printf("session %s: root %d (%s), %zu records in use, overflow %u; %zu rounds here, "
               "%u reaped so far (%u processes killed, %u directories removed)\n",
               s.id, (int)s.root_pid, session_root_alive(&s) ? "alive" : "dead", s.nentry_refs,
               s.overflow, rs.n, s.rounds_reaped, s.processes_reaped, s.dirs_removed);
        shown_rounds = &rs;
        printf("%-8s %-8s %-16s %-7s %-10s %s %s\n", "PID", "PPID", "ROLE", "STATE", "SOURCE", "SEEN", "EXE");
        for (size_t i = 0; i < rows.n; i++) {
            if (!tree)
                print_row(stdout, &rows.v[i], 0);
            else if (rows.v[i].parent < 0)
                print_subtree(stdout, &rows, &rows.v[i], 0);
        }
        for (size_t i = 0; tree && i < rows.n; i++) /* cycles from pid reuse */
            if (!rows.v[i].printed)
                print_subtree(stdout, &rows, &rows.v[i], 0);
        print_dirs_text(stdout, &s);
    }
    free(rows.v);
    rounds_free(&rs);
    proctable_free(&pt);
    session_free(&s);
    return EXIT_DONE;
}

static int ls_sessions(uint32_t uid, int json)
{
    char (*ids)[CR_SESSION_MAX];
    size_t n = session_list(uid, &ids);
    int rc = EXIT_DONE;
    if (json)
        fputs("[", stdout);
    else
        printf("%-20s %-8s %-6s %s\n", "SESSION", "ROOT", "STATE", "RECORDS");
    for (size_t i = 0, shown = 0; i < n; i++) {
        struct session s;
        char why[160];
        enum cr_registry_status st = session_load(&s, uid, ids[i], 0, why, sizeof why);
        if (st == CR_REG_MISSING)
            continue; /* reaped between the listing and the load */
        if (st != CR_REG_OK) {
            report_session_error(ids[i], why, 0); /* the list holds sessions that load */
            rc = EXIT_REGISTRY;
            continue;
        }
        const char *state = session_root_alive(&s) ? "alive" : "dead";
        if (json) {
            fprintf(stdout, "%s{\"session\":", shown++ ? "," : "");
            json_string(stdout, s.id);
            fprintf(stdout, ",\"root_pid\":%d,\"root\":\"%s\",\"entries\":%u}", (int)s.root_pid,
                    state, s.entries);
        } else {
            printf("%-20s %-8d %-6s %u\n", s.id, (int)s.root_pid, state, s.entries);
        }
        session_free(&s);
    }
    if (json)
        fputs("]\n", stdout);
    free(ids);
    return rc;
}

int cmd_ls(int argc, char **argv)
{
    static const struct option opts[] = {
        {"session", required_argument, 0, 's'}, {"tree", no_argument, 0, 't'},
        {"helpers", no_argument, 0, 'H'},
        {"json", no_argument, 0, 'j'},          {"uid", required_argument, 0, 'u'},
        {0, 0, 0, 0},
    };
    const char *session = NULL;
    int tree = 0, json = 0, helpers = 0, c;
    uint64_t uid = getuid();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': session = optarg; break;
        case 't': tree = 1; break;
        case 'H': helpers = 1; break;
        case 'j': json = 1; break;
        case 'u':
            if (parse_uid(optarg, &uid) < 0)
                return EXIT_USAGE;
            break;
        default: usage(); return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage();
        return EXIT_USAGE;
    }
    fold_helpers = tree && !helpers;
    return session ? ls_session((uint32_t)uid, session, tree, json) : ls_sessions((uint32_t)uid, json);
}
