/* A session as the reaper sees it: the registry's entries merged per
 * process (pid + start time), and its directory records merged per path. */
#ifndef CHROMEREAPER_SESSION_H
#define CHROMEREAPER_SESSION_H

#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "registry.h"
#include "role.h"

/* Hashed as raw bytes (uthash): no implicit padding, whose contents an
 * initializer leaves unspecified — a sanitizer build showed lookups miss. */
struct tracked_key {
    pid_t pid;
    uint32_t pad; /* always 0: named, so every initializer zeroes it */
    uint64_t start_time;
};
_Static_assert(sizeof(struct tracked_key) == 16, "tracked_key has no hidden padding");

struct tracked {
    struct tracked_key key;
    pid_t ppid;
    enum cr_role role;
    uint32_t seen_mask; /* 1 << enum cr_seen */
    uint32_t flags;     /* CR_ENTRY_* */
    uint32_t first_slot;
    int self_recorded;  /* the role came from the process itself, not a parent */
    int reaped;         /* every record of it is marked reaped: verified dead */
    pid_t creator;      /* pid of the process whose fork/spawn record names it, or 0 */
    struct tracked *round_root; /* set by rounds_build */
    struct tracked *parent;     /* the record it was created from, set by rounds_build */
    int is_link;                /* some other record's parent: keep while that one matters */
    char exe[CR_EXE_MAX];
    char profile_dir[CR_DIR_PATH_MAX]; /* its latest --user-data-dir record's, for `ls` */
    UT_hash_handle hh;
};

struct tracked_dir {
    char path[CR_DIR_PATH_MAX];
    uint32_t origins; /* 1 << enum cr_dir_origin */
    int absent_at_launch; /* from the earliest --user-data-dir record */
    uint64_t dev, ino;    /* a mkdtemp record's, else the latest present-at-launch one's */
    int have_identity;
    int from_mkdtemp;
    int shown_mkdtemp; /* for `ls`: some record, settled or not, says mkdtemp */
    pid_t creator;
    uint64_t creator_start; /* start time of the creating process */
    int creator_settled;    /* creator taken from a record an earlier reap settled */
    int reaped;
    UT_hash_handle hh;
};

/* Where each record sits in the registry, so that the reaper can mark the
 * records of verifiably dead processes reaped and later free them. */
struct record_ref {
    uint32_t slot;
    uint64_t seq;
    int reaped;
    struct tracked *proc;    /* for entries */
    struct tracked_dir *dir; /* for directory records */
};

struct session {
    char id[CR_SESSION_MAX];
    uint32_t uid;
    struct cr_registry reg;
    struct tracked *procs;     /* in first-seen order */
    struct tracked_dir *dirs;  /* in first-seen order */
    pid_t root_pid;
    uint64_t root_start_time;
    uint32_t entries, overflow;
    /* the header's totals, read before the records: a reap marks its
     * records before it adds to them, so the records loaded reflect every
     * reap these count (what `ls` prints is one moment's) */
    uint32_t rounds_reaped, processes_reaped, dirs_removed;
    int writable; /* records may be marked reaped */
    int lock_fd;  /* held while writable: one reaper at a time */
    uint64_t reg_dev, reg_ino; /* the registry file: a live root maps it */
    int pidns_gone; /* made in a PID namespace that is gone: no process
                       records loaded, no cookie scan, nothing alive */
    struct record_ref *entry_refs, *dir_refs;
    size_t nentry_refs, ndir_refs;
};

/* Opens and merges the session; on failure `why` says why (exit code 3).
 * The registry is hostile input: besides registry_open's checks of the
 * file and header, a header naming another session, impossible counters,
 * or any committed record that no writer can have written (see
 * registry_entry_check; duplicate sequence numbers too) makes the whole
 * session CR_REG_CORRUPT, with `why` = "corrupt registry: <the problem>",
 * and nothing of it loaded.  Empty and half-written slots are skipped.
 * `writable` maps the registry for marking records reaped and takes the
 * session's lock first (registry_lock), so two reapers never act on one
 * session at once; CR_REG_MISSING then may also mean "reaped meanwhile".
 * A lock held for longer than SESSION_LOCK_WAIT_SEC is CR_REG_BUSY; a file
 * that is not the uid's own 0600 registry is CR_REG_FOREIGN, never waited
 * for. */
enum cr_registry_status session_load(struct session *s, uint32_t uid, const char *id, int writable,
                                     char *why, size_t why_len);

/* How long a writable load waits for another holder of the session's lock
 * before it gives up with CR_REG_BUSY: longer than a reap takes. */
#define SESSION_LOCK_WAIT_SEC 10.0

/* A writable load that waits `lock_wait_sec` at most (0: only tries). */
enum cr_registry_status session_load_locked(struct session *s, uint32_t uid, const char *id,
                                            double lock_wait_sec, char *why, size_t why_len);
void session_free(struct session *s);

/* A session without a registry (it could not be created: /dev/shm full or
 * read-only): reaping it relies on the cookie scan and descendant walk. */
void session_cookie_only(struct session *s, uint32_t uid, const char *id);

/* 1 if the process is alive (same start time, not a zombie). */
int tracked_key_alive(const struct tracked_key *k);

/* 1 if the session's root process is alive (same start time). */
int session_root_alive(const struct session *s);

/* A session is stale when its root is dead (a registry whose root was never
 * recorded: once it is a minute old, its creator died at birth) and so is
 * every process of the bot's side (rounds_bot_alive: a daemon the bot
 * forked keeps the session). */
int session_is_stale(struct session *s);

/* Session ids of `uid` present in /dev/shm; returns the count, *ids malloc'd. */
size_t session_list(uint32_t uid, char (**ids)[CR_SESSION_MAX]);

const char *seen_name(int seen);

#endif
