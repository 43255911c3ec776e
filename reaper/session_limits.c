#include "session_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int limits_any(const struct limits *l)
{
    return l->max_browsers || l->max_round_age_sec > 0 || l->max_rss_bytes;
}

/* The oldest round not yet chosen, or -1. */
static long oldest_kept(const struct live_round *v, size_t n)
{
    long best = -1;
    for (size_t i = 0; i < n; i++)
        if (!v[i].reap && (best < 0 || v[i].start_ticks < v[best].start_ticks))
            best = (long)i;
    return best;
}

static void choose(struct live_round *r, enum reap_reason why)
{
    r->reap = 1;
    r->reason = why;
}

void limits_choose(const struct limits *l, struct live_round *v, size_t n)
{
    size_t kept = n;
    for (size_t i = 0; i < n; i++) {
        v[i].reap = 0;
        if (l->max_round_age_sec > 0 && v[i].age_sec > l->max_round_age_sec) {
            choose(&v[i], REASON_MAX_ROUND_AGE);
            kept--;
        }
    }
    while (l->max_browsers && kept > l->max_browsers) {
        choose(&v[oldest_kept(v, n)], REASON_MAX_BROWSERS);
        kept--;
    }
    if (!l->max_rss_bytes)
        return;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].reap ? 0 : v[i].rss_bytes;
    long oldest;
    while (total > l->max_rss_bytes && (oldest = oldest_kept(v, n)) >= 0) {
        total -= v[oldest].rss_bytes;
        choose(&v[oldest], REASON_MAX_RSS);
    }
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0 && v <= 1e9))
        return -1;
    *out = v;
    return 0;
}

int limits_parse(struct limits *l, const char *name, const char *value)
{
    double v;
    if (strcmp(name, "max-browsers") == 0) {
        if (parse_double(value, &v) < 0 || v != (double)(unsigned)v || v > 100000) {
            fprintf(stderr, "chromereaper: max-browsers takes a whole number from 1 to 100000\n");
            return -1;
        }
        l->max_browsers = (unsigned)v;
        return 0;
    }
    if (strcmp(name, "max-round-age") == 0) {
        if (parse_double(value, &l->max_round_age_sec) < 0) {
            fprintf(stderr, "chromereaper: max-round-age takes seconds (more than 0)\n");
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "max-rss") == 0) {
        if (parse_double(value, &v) < 0 || v > 1e8) {
            fprintf(stderr, "chromereaper: max-rss takes mebibytes (more than 0)\n");
            return -1;
        }
        l->max_rss_bytes = (uint64_t)(v * 1048576.0);
        return 0;
    }
    fprintf(stderr, "chromereaper: no such limit '%s'\n", name);
    return -1;
}

int limits_from_env(struct limits *l)
{
    static const char *const vars[][2] = {
        {"CHROMEREAPER_MAX_BROWSERS", "max-browsers"},
        {"CHROMEREAPER_MAX_ROUND_AGE", "max-round-age"},
        {"CHROMEREAPER_MAX_RSS", "max-rss"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i][0]);
        if (v && *v && limits_parse(l, vars[i][1], v) < 0)
            return -1;
    }
    return 0;
}

uint64_t limits_process_memory(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    FILE *f = fopen(path, "re");
    unsigned long long kb = 0, pages = 0, size = 0;
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = sscanf(line, "Pss: %llu kB", &kb) == 1;
    if (f)
        fclose(f);
    if (found)
        return (uint64_t)kb * 1024;
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    f = fopen(path, "re");
    if (f && fscanf(f, "%llu %llu", &size, &pages) == 2) {
        fclose(f);
        return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
    }
    if (f)
        fclose(f);
    return 0;
}
