#include "breaker.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reap.h"

/* Seconds since a start time in clock ticks after boot (what /proc says;
 * the kernel counts it on the boot-time clock). */
static double age_of(uint64_t start_ticks)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    long hz = sysconf(_SC_CLK_TCK);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    return now - (double)start_ticks / (double)(hz > 0 ? hz : 100);
}

static uint64_t round_memory(const struct round *r)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->nmembers; i++)
        if (tracked_key_alive(&r->members[i]->key))
            sum += limits_process_memory(r->members[i]->key.pid);
    return sum;
}

static void describe(const struct limits *l, enum reap_reason why, size_t live, uint64_t total,
                     char *buf, size_t len)
{
    switch (why) {
    case REASON_MAX_BROWSERS:
        snprintf(buf, len, "%zu live browsers, at most %u", live, l->max_browsers);
        break;
    case REASON_MAX_ROUND_AGE:
        snprintf(buf, len, "older than %.0f s", l->max_round_age_sec);
        break;
    default:
        snprintf(buf, len, "the browsers use %llu MiB, at most %llu MiB",
                 (unsigned long long)(total >> 20), (unsigned long long)(l->max_rss_bytes >> 20));
    }
}

int breaker_apply(const struct limits *l, struct session *s, struct rounds *rs, double grace_sec,
                  const struct dirseen *seen, struct history *h)
{
    if (!l || !limits_any(l) || !rs->n)
        return 0;
    struct live_round *v = calloc(rs->n, sizeof *v);
    size_t *which = calloc(rs->n, sizeof *which);
    if (!v || !which)
        abort();
    size_t n = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < rs->n; i++) {
        struct round *r = &rs->v[i];
        if (r->reaped || !tracked_key_alive(&r->root->key))
            continue;
        v[n] = (struct live_round){.start_ticks = r->root->key.start_time,
                                   .age_sec = age_of(r->root->key.start_time),
                                   .rss_bytes = l->max_rss_bytes ? round_memory(r) : 0};
        total += v[n].rss_bytes;
        which[n++] = i;
    }
    limits_choose(l, v, n);
    int reaped = 0;
    for (size_t k = 0; k < n; k++) {
        if (!v[k].reap)
            continue;
        struct round *r = &rs->v[which[k]];
        char why[128];
        describe(l, v[k].reason, n, total, why, sizeof why);
        /* the root is alive, its start time checked: when the round began is a kernel fact */
        struct reap_options opt = {.grace_sec = grace_sec, .spare_root = 1, .round = r, .seen = seen,
                                   .round_root_seen = 1};
        struct reap_result res;
        reap_session(s, &opt, &res);
        log_msg(LOG_WARN, "session %s: circuit breaker (%s: %s): reaped the round of %s %d: "
                "%zu processes killed, %zu directories removed, %zu survived",
                s->id, reap_reason_name(v[k].reason), why, role_name(r->root->role),
                (int)r->root->key.pid,
                reap_count(&res, OUTCOME_TERMINATED) + reap_count(&res, OUTCOME_KILLED),
                reap_count_dirs(&res, DIR_REMOVED), reap_count(&res, OUTCOME_SURVIVED));
        if (h)
            history_reap(h, &res, v[k].reason, &r->root->key);
        reap_result_free(&res);
        r->reaped = 1;
        r->root->reaped = 1;
        reaped++;
    }
    free(v);
    free(which);
    return reaped;
}
