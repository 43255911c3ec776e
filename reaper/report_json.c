#include "report_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "safestr.h"

static void index_or_null(FILE *out, const char *key, int v)
{
    if (v < 0)
        fprintf(out, ",\"%s\":null", key);
    else
        fprintf(out, ",\"%s\":%d", key, v);
}

static void time_or_null(FILE *out, const char *key, double t)
{
    if (t > 0)
        fprintf(out, ",\"%s\":%.3f", key, t);
    else
        fprintf(out, ",\"%s\":null", key);
}

static void write_header(FILE *out, const struct history *h, const struct report_meta *m)
{
    fprintf(out, "{\"schema\":\"chromereaper-session-report\",\"version\":%d,\"session\":",
            REPORT_SCHEMA_VERSION);
    json_string(out, m->session);
    fprintf(out, ",\"mode\":\"%s\",\"command\":", m->mode);
    if (m->argv) {
        fputc('[', out);
        for (size_t i = 0; m->argv[i]; i++) {
            if (i)
                fputc(',', out);
            json_string(out, m->argv[i]);
        }
        fputc(']', out);
    } else {
        fputs("null", out);
    }
    fprintf(out, ",\"root_pid\":%d,\"command_exit\":", (int)m->root_pid);
    if (!m->have_status)
        fputs("null", out);
    else if (WIFSIGNALED(m->wait_status))
        fprintf(out, "{\"signal\":%d}", WTERMSIG(m->wait_status));
    else
        fprintf(out, "{\"code\":%d}", WEXITSTATUS(m->wait_status));
    index_or_null(out, "exit_status", m->exit_status);
    fprintf(out, ",\"started\":%.3f,\"ended\":%.3f", h->started_unix, h->ended_unix);
    const struct limits *l = m->limits;
    fputs(",\"limits\":{", out);
    fprintf(out, "\"max_browsers\":");
    if (l && l->max_browsers)
        fprintf(out, "%u", l->max_browsers);
    else
        fputs("null", out);
    if (l && l->max_round_age_sec > 0)
        fprintf(out, ",\"max_round_age_sec\":%.3f", l->max_round_age_sec);
    else
        fputs(",\"max_round_age_sec\":null", out);
    if (l && l->max_rss_bytes)
        fprintf(out, ",\"max_rss_bytes\":%llu}", (unsigned long long)l->max_rss_bytes);
    else
        fputs(",\"max_rss_bytes\":null}", out);
    fprintf(out, ",\"leak_gate\":{\"enabled\":%s,\"leaked_processes\":%zu,\"leaked_directories\":%zu}",
            m->fail_on_leak ? "true" : "false", h->leaked_procs, h->leaked_dirs);
}

static void write_processes(FILE *out, const struct history *h)
{
    fputs(",\"processes\":[", out);
    const struct hist_proc *p, *pt;
    int first = 1;
    HASH_ITER(hh, h->procs, p, pt) {
        fprintf(out, "%s{\"pid\":%d,\"ppid\":%d,\"start_ticks\":%llu,\"start_time\":%.3f",
                first ? "" : ",", (int)p->key.pid, (int)p->ppid,
                (unsigned long long)p->key.start_time, history_unix_time(h, p->key.start_time));
        time_or_null(out, "end_time", p->end_unix);
        fprintf(out, ",\"role\":\"%s\",\"exe\":", role_name(p->role));
        json_string(out, p->exe);
        fprintf(out, ",\"found_by\":\"%s\",\"seen\":[", found_by_name(p->found_by));
        for (int s = 1, n = 0; s <= CR_SEEN_MAX; s++)
            if (p->seen_mask & (1u << s))
                fprintf(out, "%s\"%s\"", n++ ? "," : "", seen_name(s));
        fputc(']', out);
        index_or_null(out, "round", p->round);
        fprintf(out, ",\"outcome\":\"%s\"", hist_outcome_name(p->outcome));
        index_or_null(out, "reap", p->reap);
        fputc('}', out);
        first = 0;
    }
    fputc(']', out);
}

/* How a round ended: the reason of the reap that dealt with it (its own,
 * else its root's), "round-ended" if its root exited with nothing left to
 * reap, null while it runs. */
static const char *round_end(const struct history *h, const struct hist_round *r)
{
    int reap = r->reap;
    if (reap < 0) {
        const struct hist_proc *root;
        HASH_FIND(hh, h->procs, &r->root, sizeof r->root, root);
        reap = root ? root->reap : -1;
    }
    if (reap >= 0)
        return reap_reason_name(h->reaps[reap].reason);
    return r->end_unix > 0 ? reap_reason_name(REASON_ROUND_ENDED) : NULL;
}

static void write_rounds(FILE *out, const struct history *h)
{
    size_t *members = calloc(h->nrounds ? h->nrounds : 1, sizeof *members);
    if (!members)
        abort();
    const struct hist_proc *p, *pt;
    HASH_ITER(hh, h->procs, p, pt) {
        if (p->round >= 0)
            members[p->round]++;
    }
    fputs(",\"rounds\":[", out);
    for (size_t i = 0; i < h->nrounds; i++) {
        const struct hist_round *r = &h->rounds[i];
        const char *end = round_end(h, r);
        fprintf(out, "%s{\"index\":%zu,\"root_pid\":%d,\"root_start_ticks\":%llu,\"role\":\"%s\","
                     "\"start_time\":%.3f",
                i ? "," : "", i, (int)r->root.pid, (unsigned long long)r->root.start_time,
                role_name(r->role), history_unix_time(h, r->root.start_time));
        time_or_null(out, "end_time", r->end_unix);
        if (end)
            fprintf(out, ",\"ended_by\":\"%s\"", end);
        else
            fputs(",\"ended_by\":null", out);
        index_or_null(out, "reap", r->reap);
        fprintf(out, ",\"processes\":%zu}", members[i]);
    }
    fputc(']', out);
    free(members);
}

static void write_dirs(FILE *out, const struct history *h)
{
    fputs(",\"directories\":[", out);
    const struct hist_dir *d, *dt;
    int first = 1;
    HASH_ITER(hh, h->dirs, d, dt) {
        fprintf(out, "%s{\"path\":", first ? "" : ",");
        json_string(out, d->path);
        fprintf(out, ",\"origin\":\"%s\"", d->origin ? d->origin : "unknown");
        index_or_null(out, "round", d->round);
        fprintf(out, ",\"fate\":\"%s\",\"why\":", d->handled ? dir_action_name(d->action) : "unhandled");
        json_string(out, d->why);
        fprintf(out, ",\"leak\":%s", d->handled && history_dir_is_leak(d->path, d->action) ? "true" : "false");
        index_or_null(out, "reap", d->handled ? d->reap : -1);
        fputc('}', out);
        first = 0;
    }
    fputc(']', out);
}

static void write_reaps(FILE *out, const struct history *h)
{
    fputs(",\"reaps\":[", out);
    for (size_t i = 0; i < h->nreaps; i++) {
        const struct hist_reap *r = &h->reaps[i];
        fprintf(out, "%s{\"index\":%zu,\"time\":%.3f,\"reason\":\"%s\"", i ? "," : "", i, r->unix_time,
                reap_reason_name(r->reason));
        index_or_null(out, "round", r->round);
        fprintf(out, ",\"processes_signalled\":%zu,\"directories_removed\":%zu,\"millis\":%.1f}",
                r->signalled, r->dirs_removed, r->millis);
    }
    fputc(']', out);
}

void report_json_session(FILE *out, const struct history *h, const struct report_meta *m)
{
    write_header(out, h, m);
    write_processes(out, h);
    write_rounds(out, h);
    write_dirs(out, h);
    write_reaps(out, h);
    fputs("}\n", out);
}

int report_json_write(const char *path, const struct history *h, const struct report_meta *m)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    FILE *out = fdopen(fd, "w");
    if (!out) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    report_json_session(out, h, m);
    int failed = fflush(out) != 0 || ferror(out) || fsync(fd) != 0;
    int e = errno;
    failed |= fclose(out) != 0;
    if (failed || rename(tmp, path) != 0) {
        e = failed ? e : errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}
