/* Reaping a session: the kill plan (tracked processes of the browser stack,
 * their live descendants, and cookie holders), executed through pidfds,
 * leaves first, with a grace period; then the session's directories. */
#ifndef CHROMEREAPER_REAP_H
#define CHROMEREAPER_REAP_H

#include <stdint.h>
#include <sys/types.h>

#include "role.h"
#include "session.h"

enum target_outcome {
    OUTCOME_PLANNED = 0, /* dry run */
    OUTCOME_TERMINATED,  /* exited after SIGTERM within the grace */
    OUTCOME_KILLED,      /* needed SIGKILL */
    OUTCOME_VANISHED,    /* gone (or was a zombie) before we signalled it */
    OUTCOME_SURVIVED,    /* still alive after SIGKILL: reported, exit code 1 */
};

/* FOUND_MAPPING: seen first by a rescan during the reap, tied by the
 * session's registry it maps (an orphan of a zygote that died meanwhile) */
enum found_by { FOUND_REGISTRY = 0, FOUND_DESCENDANT, FOUND_COOKIE, FOUND_ORPHAN, FOUND_MAPPING };

struct target {
    pid_t pid;
    uint64_t start_time;
    pid_t ppid;
    enum cr_role role;
    enum found_by found_by;
    int depth; /* in the plan's forest: deeper ones are signalled first */
    int pidfd;
    int stopped; /* sent SIGSTOP */
    int sent_term, sent_kill;
    int dead; /* seen dead (death is for good: never looked at again) */
    enum target_outcome outcome;
    char exe[256];
};

enum dir_action {
    DIR_PLANNED = 0, /* dry run: would be removed */
    DIR_REMOVED,
    DIR_ABSENT,      /* already gone */
    DIR_KEPT,        /* not ours to delete (why says so) */
    DIR_FAILED,      /* could not be (fully) removed */
};

struct dir_result {
    char path[4096];
    const char *origin; /* "mkdtemp" or "user-data-dir" */
    enum dir_action action;
    int again;      /* kept for now (in use, processes survived, the bot's until
                       the session ends): a later reap of the session looks again */
    uint64_t bytes; /* removed: the disk space it took, measured just before */
    char why[256];
};

struct round;
struct dirseen;

struct reap_options {
    double grace_sec;
    int dry_run;
    int spare_root;            /* never signal the session's root process (the bot) */
    const struct round *round; /* reap only this driver round; NULL: the whole session */
    int round_root_seen;       /* the monitor saw that round's root alive with its recorded
                                  start time: when the round began is a kernel fact */
    const struct dirseen *seen; /* profiles the watchdog or `run` saw given to browsers, or NULL */
    /* the session began no later than this start time (clock ticks after
     * boot, from the kernel), when earlier than its registry: a session
     * tied to its root's launcher began with the launcher (launcher.h); 0 */
    uint64_t began_ticks;
};

/* Where a reap's time went, in milliseconds (CLOCK_MONOTONIC): finding the
 * processes (scan), deciding the targets (plan), stopping them and finding
 * what they forked meanwhile (freeze), the signals that end them (signal),
 * waiting for their deaths and the grace (wait), the directories and the
 * registry (dirs); `reap --timings` prints them. */
struct reap_timings {
    double scan, plan, freeze, signal, wait, dirs, total;
};

struct reap_result {
    char session[CR_SESSION_MAX];
    struct target *targets;
    size_t ntargets, cap;
    struct dir_result *dirs;
    size_t ndirs;
    int root_alive;
    int no_registry; /* reaped by cookie and descendants only */
    int registry_unlinked;
    uint32_t overflow;
    double millis; /* timings.total */
    struct reap_timings timings;
    int dry_run;
};

/* Returns 0 if everything planned is gone and removed, 1 otherwise.  With a
 * writable session, the records of processes verified dead and of handled
 * directories are marked reaped, and the registry's totals are updated. */
int reap_session(struct session *s, const struct reap_options *opt, struct reap_result *out);
void reap_result_free(struct reap_result *r);

/* doctor --fix: the processes `keys` names (leaked orphans of `uid`, each
 * still the process with that start time) and their live descendants,
 * killed as a session's are: pinned by pidfds, stopped, leaves first,
 * SIGTERM, `opt->grace_sec`, SIGKILL, verified.  Never pid 1, a kernel
 * thread, another uid's, the reaper or its ancestors, or a process whose
 * environment names a session.  Returns 0 if all died, 1 otherwise. */
int reap_orphans(const struct tracked_key *keys, size_t n, uint32_t uid, const struct reap_options *opt,
                 struct reap_result *out);

/* Counts for the report. */
size_t reap_count(const struct reap_result *r, enum target_outcome o);
size_t reap_count_dirs(const struct reap_result *r, enum dir_action a);

const char *outcome_name(enum target_outcome o);
const char *found_by_name(enum found_by f);
const char *dir_action_name(enum dir_action a);

#endif
