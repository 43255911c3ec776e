/* Watching a live session: whenever a round's root (a driver, or a browser
 * the bot started itself) exits, what it left behind is reaped while the bot
 * keeps running, and records of verifiably dead processes are recycled so
 * the registry never fills.  `run` (the supervisor) and `watch` (the
 * watchdog of preload mode) call monitor_tick a few times a second. */
#ifndef CHROMEREAPER_MONITOR_H
#define CHROMEREAPER_MONITOR_H

#include <stdint.h>

#include "metrics.h"
#include "dirseen.h"
#include "registry.h"
#include "session.h"
#include "settle.h"

struct history;
struct limits;

struct key_set {
    struct tracked_key *v;
    size_t n, cap;
};

struct watched_root {
    struct tracked_key key;
    int pidfd;
};

struct monitor {
    char session[CR_SESSION_MAX];
    uint32_t uid;
    double grace_sec;
    struct cr_registry reg; /* kept mapped to notice new records cheaply */
    uint64_t seen_next;
    double last_scan_ms;
    struct watched_root *roots;
    size_t nroots, roots_cap;
    uint32_t rounds_reaped;
    struct metrics *metrics; /* --metrics-file: told of each round reaped; may be NULL */
    struct dirseen seen; /* profiles seen on live browsers' command lines */
    struct key_set roots_seen_alive; /* round roots seen alive, start time checked */
    struct key_set rounds_done;      /* rounds this monitor reaped: once is final */
    struct history *history;     /* what it saw and reaped is added here, if set */
    const struct limits *limits; /* the circuit breaker's, if set */
    double round_settle_sec;     /* a quit browser's time to exit before its round is reaped */
    struct settle_clock settling;
    int bot_alive; /* as of the last scan (1 before the first) */
};

/* 0, or -1 if the session's registry cannot be opened. */
int monitor_init(struct monitor *m, const char *session, uint32_t uid, double grace_sec);
/* Reaps every round whose root has exited, and notes whether the bot's side
 * of the session still lives (its processes are pinned, so that the last
 * exit is noticed on the next tick); returns how many it reaped, or -1 once
 * the registry is gone (someone reaped the whole session).  On each rescan
 * it also notes the --user-data-dir of every live browser of the session
 * (m->seen, for this and the session's final reap). */
int monitor_tick(struct monitor *m);
void monitor_free(struct monitor *m);

#endif
