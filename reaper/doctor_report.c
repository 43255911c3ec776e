#include "doctor.h"

#include <string.h>

#include "human.h"
#include "json.h"

struct colours {
    const char *head, *warn, *ok, *off;
};

/* Names come from the file system and from processes: no control
 * character reaches the terminal. */
static void put_safe(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

static uint64_t procs_rss(const struct doctor *d)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < d->nprocs; i++)
        sum += d->procs[i].rss;
    return sum;
}

static uint64_t dirs_bytes(const struct doctor *d)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < d->ndirs; i++)
        sum += d->dirs[i].bytes;
    return sum;
}

static void text_procs(FILE *out, const struct doctor *d, const struct colours *c)
{
    char rss[32], ago[32];
    human_bytes(procs_rss(d), rss, sizeof rss);
    fprintf(out, "%sLeaked browser processes: %zu, %s resident%s\n", c->head, d->nprocs, rss, c->off);
    fprintf(out, "  %-10s %-9s %-11s %-10s ", "PID", "ROLE", "STARTED", "RSS");
    if (d->fix)
        fprintf(out, "%-10s ", "OUTCOME");
    fprintf(out, "%-20s %s\n", "PARENT", "WHY / EXE");
    for (size_t i = 0; i < d->nprocs; i++) {
        const struct leaked_proc *p = &d->procs[i];
        human_bytes(p->rss, rss, sizeof rss);
        human_ago(p->age_sec, ago, sizeof ago);
        char pid[32];
        snprintf(pid, sizeof pid, "%*s%d", p->depth > 4 ? 4 : p->depth, "", (int)p->pid);
        fprintf(out, "  %-10s %-9s %-11s %-10s ", pid, role_name(p->role), ago, rss);
        if (d->fix)
            fprintf(out, "%-10s ", p->outcome ? p->outcome : "");
        char parent[64];
        snprintf(parent, sizeof parent, "%-20s", p->parent);
        put_safe(out, parent);
        fputc(' ', out);
        put_safe(out, p->depth == 0 ? p->why : p->exe);
        if (p->depth == 0) {
            fputs("  ", out);
            put_safe(out, p->exe);
        }
        fputc('\n', out);
    }
}

static void text_dirs(FILE *out, const struct doctor *d, const struct colours *c)
{
    char size[32], ago[32];
    human_bytes(dirs_bytes(d), size, sizeof size);
    fprintf(out, "%sLeftover temp directories: %zu, %s%s\n", c->head, d->ndirs, size, c->off);
    fprintf(out, "  %-11s %-10s ", "MODIFIED", "SIZE");
    if (d->fix)
        fprintf(out, "%-10s ", "ACTION");
    fprintf(out, "%-24s %s\n", "KIND", "PATH");
    for (size_t i = 0; i < d->ndirs; i++) {
        const struct leftover *l = &d->dirs[i];
        human_bytes(l->bytes, size, sizeof size);
        human_ago(l->age_sec, ago, sizeof ago);
        fprintf(out, "  %-11s %-10s ", ago, size);
        if (d->fix)
            fprintf(out, "%-10s ", l->action ? l->action : "");
        fprintf(out, "%-24s ", l->kind);
        put_safe(out, l->path);
        if (l->why[0]) {
            fputs(" (", out);
            put_safe(out, l->why);
            fputc(')', out);
        }
        fputc('\n', out);
    }
}

static void text_sessions(FILE *out, const struct doctor *d, const struct colours *c)
{
    fprintf(out, "%sStale sessions (registries whose root is dead): %zu%s\n", c->head, d->nsessions, c->off);
    fprintf(out, "  %-24s %-8s %-11s %-10s %s\n", "SESSION", "ROOT", "CREATED", "SIZE", d->fix ? "ACTION" : "");
    for (size_t i = 0; i < d->nsessions; i++) {
        const struct stale_session *s = &d->sessions[i];
        char size[32], ago[32];
        human_bytes(s->bytes, size, sizeof size);
        human_ago(s->age_sec, ago, sizeof ago);
        fprintf(out, "  %-24s %-8d %-11s %-10s %s", s->id, (int)s->root, ago, size, s->action ? s->action : "");
        if (s->action && strcmp(s->action, "reaped") == 0)
            fprintf(out, " (%zu processes killed, %zu directories removed)", s->killed, s->dirs_removed);
        if (s->problem[0]) {
            fputs(" unreadable: ", out);
            put_safe(out, s->problem);
        }
        fputc('\n', out);
    }
}

void doctor_report_text(FILE *out, const struct doctor *d, int colour)
{
    struct colours c = {"", "", "", ""};
    if (colour)
        c = (struct colours){"\033[1m", "\033[1;33m", "\033[1;32m", "\033[0m"};
    char older[32];
    human_duration(d->older_than, older, sizeof older);
    fprintf(out, "chromereaper doctor: uid %u, leaks older than %s%s\n\n", d->uid, older,
            d->fix ? (d->dry_run ? " (dry run: nothing touched)" : "") : "");
    if (!d->nprocs && !d->ndirs && !d->nsessions) {
        fprintf(out, "%sNothing leaked.%s\n", c.ok, c.off);
        return;
    }
    if (d->nprocs) {
        text_procs(out, d, &c);
        fputc('\n', out);
    }
    if (d->ndirs) {
        text_dirs(out, d, &c);
        fputc('\n', out);
    }
    if (d->nsessions) {
        text_sessions(out, d, &c);
        fputc('\n', out);
    }
    char rss[32], bytes[32];
    human_bytes(procs_rss(d), rss, sizeof rss);
    human_bytes(dirs_bytes(d), bytes, sizeof bytes);
    fprintf(out, "%sTotal: %zu process%s (%s resident), %zu director%s (%s), %zu stale session%s.%s\n", c.warn,
            d->nprocs, d->nprocs == 1 ? "" : "es", rss, d->ndirs, d->ndirs == 1 ? "y" : "ies", bytes,
            d->nsessions, d->nsessions == 1 ? "" : "s", c.off);
    if (!d->fix)
        fputs("To clean up: chromereaper doctor --fix (add --dry-run to see the plan first).\n", out);
    else if (d->dry_run)
        fputs("Run without --dry-run to do it.\n", out);
}

void doctor_report_json(FILE *out, const struct doctor *d)
{
    fprintf(out, "{\"uid\":%u,\"older_than_seconds\":%.0f,\"fix\":%s,\"dry_run\":%s,\"processes\":[", d->uid,
            d->older_than, d->fix ? "true" : "false", d->dry_run ? "true" : "false");
    for (size_t i = 0; i < d->nprocs; i++) {
        const struct leaked_proc *p = &d->procs[i];
        fprintf(out, "%s{\"pid\":%d,\"ppid\":%d,\"start_time\":%llu,\"leaked_root\":%d,\"depth\":%d,"
                     "\"role\":\"%s\",\"age_seconds\":%.0f,\"rss_bytes\":%llu,\"exe\":",
                i ? "," : "", (int)p->pid, (int)p->ppid, (unsigned long long)p->start_time, (int)p->root,
                p->depth, role_name(p->role), p->age_sec, (unsigned long long)p->rss);
        json_string(out, p->exe);
        fputs(",\"parent\":", out);
        json_string(out, p->parent);
        fputs(",\"why\":", out);
        json_string(out, p->why);
        fputs(",\"outcome\":", out);
        json_string(out, p->outcome ? p->outcome : "");
        fputc('}', out);
    }
    fputs("],\"directories\":[", out);
    for (size_t i = 0; i < d->ndirs; i++) {
        const struct leftover *l = &d->dirs[i];
        fprintf(out, "%s{\"path\":", i ? "," : "");
        json_string(out, l->path);
        fputs(",\"kind\":", out);
        json_string(out, l->kind);
        fprintf(out, ",\"age_seconds\":%.0f,\"bytes\":%llu,\"action\":", l->age_sec, (unsigned long long)l->bytes);
        json_string(out, l->action ? l->action : "");
        fputs(",\"why\":", out);
        json_string(out, l->why);
        fputc('}', out);
    }
    fputs("],\"sessions\":[", out);
    for (size_t i = 0; i < d->nsessions; i++) {
        const struct stale_session *s = &d->sessions[i];
        fprintf(out, "%s{\"session\":", i ? "," : "");
        json_string(out, s->id);
        fprintf(out, ",\"root_pid\":%d,\"age_seconds\":%.0f,\"bytes\":%llu,\"problem\":", (int)s->root,
                s->age_sec, (unsigned long long)s->bytes);
        json_string(out, s->problem);
        fputs(",\"action\":", out);
        json_string(out, s->action ? s->action : "");
        fprintf(out, ",\"processes_killed\":%zu,\"dirs_removed\":%zu}", s->killed, s->dirs_removed);
    }
    fprintf(out, "],\"total\":{\"processes\":%zu,\"rss_bytes\":%llu,\"directories\":%zu,\"bytes\":%llu,"
                 "\"sessions\":%zu}}\n",
            d->nprocs, (unsigned long long)procs_rss(d), d->ndirs, (unsigned long long)dirs_bytes(d),
            d->nsessions);
}
