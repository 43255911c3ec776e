#include "report.h"

#include <stdlib.h>

#include "escape.h"
#include "json.h"

static const char *signal_sent(const struct target *t)
{
    if (t->sent_kill)
        return t->sent_term ? "TERM,KILL" : "KILL";
    return t->sent_term ? "TERM" : "-";
}

void report_summary(FILE *out, const struct reap_result *r)
{
    size_t term = reap_count(r, OUTCOME_TERMINATED), killed = reap_count(r, OUTCOME_KILLED);
    if (r->dry_run) {
        fprintf(out, "chromereaper: session %s (dry run): would signal %zu processes, remove %zu directories\n",
                r->session, r->ntargets, reap_count_dirs(r, DIR_PLANNED));
        return;
    }
    fprintf(out,
            "chromereaper: session %s: %zu processes killed (%zu by SIGTERM, %zu by SIGKILL), "
            "%zu already gone, %zu survived; %zu directories removed, %zu kept, %zu failed; %.0f ms\n",
            r->session, term + killed, term, killed, reap_count(r, OUTCOME_VANISHED),
            reap_count(r, OUTCOME_SURVIVED), reap_count_dirs(r, DIR_REMOVED),
            reap_count_dirs(r, DIR_KEPT), reap_count_dirs(r, DIR_FAILED), r->millis);
    if (r->overflow)
        fprintf(out, "chromereaper: the registry overflowed %u times: the descendant walk and cookie scan covered for it\n",
                r->overflow);
}

void report_text(FILE *out, const struct reap_result *r)
{
    report_summary(out, r);
    if (r->ntargets)
        fprintf(out, "  %-8s %-9s %-10s %-10s %-10s %s\n", "PID", "ROLE", "SIGNAL", "OUTCOME",
                "FOUND-BY", "EXE");
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct target *t = &r->targets[i];
        fprintf(out, "  %-8d %-9s %-10s %-10s %-10s ", (int)t->pid, role_name(t->role),
                signal_sent(t), outcome_name(t->outcome), found_by_name(t->found_by));
        text_escaped(out, t->exe);
        fputc('\n', out);
    }
    for (size_t i = 0; i < r->ndirs; i++) {
        const struct dir_result *d = &r->dirs[i];
        fprintf(out, "  dir %-8s ", dir_action_name(d->action));
        text_escaped(out, d->path);
        fprintf(out, " (%s)%s", d->origin, d->why[0] ? ": " : "");
        text_escaped(out, d->why);
        fputc('\n', out);
    }
    if (!r->dry_run)
        fprintf(out, "  registry %s\n",
                r->no_registry         ? "none: found by cookie and descendants only"
                : r->registry_unlinked ? "removed"
                : r->root_alive      ? "kept: the session's root process is alive"
                                     : "kept: something survived, could not be removed, or is in use");
}

void report_timings(FILE *out, const struct reap_result *r)
{
    const struct reap_timings *t = &r->timings;
    fprintf(out, "chromereaper: timings scan=%.3f plan=%.3f freeze=%.3f signal=%.3f wait=%.3f dirs=%.3f total=%.3f\n",
            t->scan, t->plan, t->freeze, t->signal, t->wait, t->dirs, t->total);
}

void report_json(FILE *out, const struct reap_result *r)
{
    fprintf(out, "{\"session\":");
    json_string(out, r->session);
    fprintf(out, ",\"dry_run\":%s,\"millis\":%.1f,\"killed\":%zu,\"terminated\":%zu,"
                 "\"killed_by_sigkill\":%zu,\"vanished\":%zu,\"survived\":%zu,"
                 "\"dirs_removed\":%zu,\"dirs_kept\":%zu,\"dirs_failed\":%zu,"
                 "\"registry_overflow\":%u,\"registry_removed\":%s,\"root_alive\":%s,\"processes\":[",
            r->dry_run ? "true" : "false", r->millis,
            reap_count(r, OUTCOME_TERMINATED) + reap_count(r, OUTCOME_KILLED),
            reap_count(r, OUTCOME_TERMINATED), reap_count(r, OUTCOME_KILLED),
            reap_count(r, OUTCOME_VANISHED), reap_count(r, OUTCOME_SURVIVED),
            reap_count_dirs(r, DIR_REMOVED), reap_count_dirs(r, DIR_KEPT),
            reap_count_dirs(r, DIR_FAILED), r->overflow, r->registry_unlinked ? "true" : "false",
            r->root_alive ? "true" : "false");
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct target *t = &r->targets[i];
        fprintf(out, "%s{\"pid\":%d,\"ppid\":%d,\"start_time\":%llu,\"role\":\"%s\",\"found_by\":\"%s\","
                     "\"signal\":\"%s\",\"outcome\":\"%s\",\"exe\":",
                i ? "," : "", (int)t->pid, (int)t->ppid, (unsigned long long)t->start_time,
                role_name(t->role), found_by_name(t->found_by), signal_sent(t),
                outcome_name(t->outcome));
        json_string(out, t->exe);
        fputc('}', out);
    }
    fprintf(out, "],\"directories\":[");
    for (size_t i = 0; i < r->ndirs; i++) {
        const struct dir_result *d = &r->dirs[i];
        fprintf(out, "%s{\"path\":", i ? "," : "");
        json_string(out, d->path);
        fprintf(out, ",\"origin\":\"%s\",\"action\":\"%s\",\"why\":", d->origin,
                dir_action_name(d->action));
        json_string(out, d->why);
        fputc('}', out);
    }
    fprintf(out, "]}\n");
}

void report_session_error(const char *id, const char *why, int json)
{
    fputs("chromereaper: session ", stderr);
    text_escaped(stderr, id);
    fputs(": ", stderr);
    text_escaped(stderr, why);
    fputc('\n', stderr);
    if (!json)
        return;
    fputs("{\"session\":", stdout);
    json_string(stdout, id);
    fputs(",\"error\":", stdout);
    json_string(stdout, why);
    fputs("}\n", stdout);
}

void report_already_reaped(const char *id, const char *why, int json)
{
    if (json) {
        fputs("{\"session\":", stdout);
        json_string(stdout, id);
        fputs(",\"already_reaped\":true}\n", stdout);
        return;
    }
    fputs("chromereaper: session ", stdout);
    text_escaped(stdout, id);
    fputs(": ", stdout);
    text_escaped(stdout, why);
    fputc('\n', stdout);
}

void log_report(enum log_level level, const struct reap_result *r)
{
    char *text = NULL;
    size_t len = 0;
    if (!log_enabled(level))
        return;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    report_text(f, r);
    fclose(f);
    log_text(level, text);
    free(text);
}
