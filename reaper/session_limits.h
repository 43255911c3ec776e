/* The circuit breaker: limits on a session, all off by default, for bots
 * that start a browser per job and drop the old one without closing it
 * (nothing else can tell an abandoned browser from a busy one).  The
 * monitor applies them to the live driver rounds on each tick: at most N
 * live rounds (the oldest are reaped when a new one starts beyond N), a
 * maximum round age, and a maximum memory for the session's browsers. */
#ifndef CHROMEREAPER_SESSION_LIMITS_H
#define CHROMEREAPER_SESSION_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "history.h"

struct limits {
    unsigned max_browsers;    /* live rounds; 0: no limit */
    double max_round_age_sec; /* 0: no limit */
    uint64_t max_rss_bytes;   /* proportional set size of the rounds' processes; 0: no limit */
};

/* One live round, as the decision sees it. */
struct live_round {
    uint64_t start_ticks; /* its root's start time: the order of age */
    double age_sec;
    uint64_t rss_bytes;
    int reap;             /* out: 1 if a limit reaps it */
    enum reap_reason reason;
};

/* The decision, a pure function: marks the rounds the limits reap.  Rounds
 * past the age limit go first; then the oldest while more than
 * max_browsers remain; then the oldest while the rest together use more
 * than max_rss_bytes. */
void limits_choose(const struct limits *l, struct live_round *v, size_t n);

int limits_any(const struct limits *l);

/* Option values: "--max-browsers N" (1..100000), "--max-round-age SEC"
 * (seconds, > 0), "--max-rss MIB" (mebibytes, > 0).  `name` is the option
 * without dashes.  0, or -1 with a message on stderr. */
int limits_parse(struct limits *l, const char *name, const char *value);

/* The same from CHROMEREAPER_MAX_BROWSERS, CHROMEREAPER_MAX_ROUND_AGE and
 * CHROMEREAPER_MAX_RSS (the watchdog of preload mode). */
int limits_from_env(struct limits *l);

/* Proportional set size of a process (smaps_rollup), else its resident
 * size (statm); 0 if it is gone. */
uint64_t limits_process_memory(int pid);

#endif
