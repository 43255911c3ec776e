/* A session's history, as the supervisor (`run`) or the watchdog saw it:
 * every process it ever had, each driver round, each directory, and every
 * reap with its reason.  The registry recycles its records, so the history
 * is built up from each load of the session while it runs.  It feeds the
 * --report JSON (report_json.c) and the leak gate (--fail-on-leak), which
 * needs only the leak counters: the detailed records are kept only when a
 * report was asked for (a bot that runs for weeks would grow them without
 * bound, about 400 bytes a process). */
#ifndef CHROMEREAPER_HISTORY_H
#define CHROMEREAPER_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "reap.h"
#include "session.h"

/* How a process ended. */
enum hist_outcome {
    HIST_RUNNING = 0, /* alive when the session ended, and not ours to reap */
    HIST_EXITED,      /* exited on its own */
    HIST_SIGTERM,     /* reaped: exited after SIGTERM */
    HIST_SIGKILL,     /* reaped: needed SIGKILL */
    HIST_SURVIVED,    /* alive after SIGKILL */
};

/* Why a reap happened. */
enum reap_reason {
    REASON_ROUND_ENDED = 0, /* the round's root (driver or browser) exited */
    REASON_SESSION_ENDED,   /* the session's root exited */
    REASON_MAX_BROWSERS,    /* circuit breaker: more live rounds than allowed */
    REASON_MAX_ROUND_AGE,   /* circuit breaker: the round ran too long */
    REASON_MAX_RSS,         /* circuit breaker: the session's browsers used too much memory */
};

struct hist_proc {
    struct tracked_key key;
    pid_t ppid;
    enum cr_role role;
    uint32_t seen_mask;  /* registry records: 1 << enum cr_seen */
    enum found_by found_by;
    int round;           /* index into rounds, or -1 */
    enum hist_outcome outcome;
    double end_unix;     /* 0 while alive (or never seen dead) */
    int reap;            /* index into reaps of the reap that ended it, or -1 */
    char exe[CR_EXE_MAX];
    UT_hash_handle hh;
};

struct hist_round {
    struct tracked_key root;
    enum cr_role role;
    double end_unix; /* when its root was seen gone, or 0 */
    int reap;        /* the reap of what it left (or of all of it, by a limit), or -1 */
};

struct hist_dir {
    char path[CR_DIR_PATH_MAX];
    const char *origin; /* "mkdtemp" or "user-data-dir" */
    int round;          /* -1 if its creator is in no round */
    int handled;        /* some reap decided its fate */
    enum dir_action action;
    char why[256];
    int reap;
    UT_hash_handle hh;
};

struct hist_reap {
    double unix_time;
    enum reap_reason reason;
    int round; /* -1: the whole session */
    size_t signalled, dirs_removed;
    double millis;
};

struct history {
    int keep_records; /* procs, rounds, dirs: only for --report */
    struct hist_proc *procs;  /* hash, in first-seen order */
    struct hist_dir *dirs;    /* hash, in first-seen order */
    struct hist_round *rounds;
    size_t nrounds, rounds_cap;
    struct hist_reap *reaps;
    size_t nreaps, reaps_cap;
    double started_unix, ended_unix;
    /* the leak gate: what had to be reaped (see history_dir_is_leak) */
    size_t leaked_procs, leaked_dirs;
    double boot_unix; /* for start times: /proc/stat btime */
    long ticks_per_sec;
};

void history_init(struct history *h, int keep_records);
void history_free(struct history *h);

/* Merges what a fresh load of the session knows: its processes (builds
 * the rounds), directories; processes seen before and gone now exited. */
void history_observe(struct history *h, struct session *s);

/* Merges a reap's results: each target's outcome, each directory's fate,
 * the reason.  `round_root` is the round reaped, NULL for the session. */
void history_reap(struct history *h, const struct reap_result *r, enum reap_reason why,
                  const struct tracked_key *round_root);

/* The session ended: what still runs is marked so, and the end time set. */
void history_finish(struct history *h);

/* A reap outcome that means a leak: a process that had to be signalled,
 * a directory that had to be removed (or could not be).  Chrome leaves
 * its singleton directory (org.chromium.Chromium.XXXXXX, holding
 * SingletonSocket) even after a clean quit: removed, but not a leak. */
int history_proc_is_leak(enum target_outcome o);
int history_dir_is_leak(const char *path, enum dir_action a);

/* Process start time (clock ticks after boot) as seconds since the epoch. */
double history_unix_time(const struct history *h, uint64_t start_ticks);

const char *hist_outcome_name(enum hist_outcome o);
const char *reap_reason_name(enum reap_reason r);

#endif
