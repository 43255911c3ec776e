/* --metrics-file: Prometheus textfile-collector metrics, rewritten after
 * every reap (write to a temporary file in the same directory, then
 * rename, so a scraper never reads half a file).  Counters accumulate over
 * the life of the writing process (one `run`, `watch` or `reap`). */
#ifndef CHROMEREAPER_METRICS_H
#define CHROMEREAPER_METRICS_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "reap.h"
#include "role.h"

enum metrics_signal { METRICS_TERM = 0, METRICS_KILL, METRICS_NSIGNALS };

struct metrics {
    char path[PATH_MAX]; /* "": metrics off */
    char session[CR_SESSION_MAX]; /* the session label ("" for reap --stale/--all) */
    uint32_t uid;
    uint64_t reaped[CR_ROLE_MAX + 1][METRICS_NSIGNALS];
    uint64_t survived, dirs_removed, bytes_freed, reaps, rounds;
    double reap_seconds;
    double last_reap_unix;
};

/* `path` NULL or "": off.  `session` may be NULL. */
void metrics_init(struct metrics *m, const char *path, const char *session, uint32_t uid);

/* Adds one reap (`round`: a driver round's, by the monitor) and rewrites the
 * file.  Nothing when off or when `m` is NULL. */
void metrics_reaped(struct metrics *m, const struct reap_result *r, int round);

/* Rewrites the file now (also with nothing reaped yet); 0, or -1 with a
 * warning logged. */
int metrics_write(const struct metrics *m);

/* The text itself, live browser processes of `m->uid` sampled from /proc. */
void metrics_format(FILE *out, const struct metrics *m);

#endif
