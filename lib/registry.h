/* The session registry: one fixed-size shared-memory object per session,
 * /dev/shm/chromereaper-<uid>-<session>, written by the shim in every tracked
 * process and read by the reaper.
 *
 * Layout (all fields fixed-width, little-endian host order, no implicit
 * padding, pinned by tests/unit/test_layout.c):
 *
 *   struct cr_registry_header                      (CR_HEADER_SIZE bytes)
 *   struct cr_entry [header.entry_capacity]        (CR_ENTRY_SIZE each)
 *   struct cr_dir   [header.dir_capacity]          (CR_DIR_SIZE each)
 *
 * Appends are lock-free: a writer takes a sequence number with an atomic
 * fetch-add on the header counter, claims the first EMPTY slot from
 * seq % capacity on (a compare-and-swap to RESERVED), fills it, then
 * publishes it by storing COMMITTED with release order.  A writer killed in
 * between leaves a RESERVED slot that readers skip, never a torn committed
 * one.  Appending is async-signal-safe and never allocates: the shim calls it
 * in vfork children and right after fork in multithreaded programs.
 *
 * Slots are reclaimed, so a bot that starts Chrome thousands of times fits:
 * once the reaper has verified the processes of a driver round dead it marks
 * their slots REAPED (still listed), and frees REAPED slots (EMPTY) when the
 * table fills.  A slot's state word carries the low bits of its entry's
 * sequence number, so a reaper never frees a slot that was reused under it,
 * and a reader detects a slot rewritten while it copied it.
 *
 * Readers treat the mapping as hostile input: registry_open validates the
 * header against the file, and registry_entry_read / registry_dir_read copy a
 * slot out and terminate its strings before anyone looks at it. */
#ifndef CHROMEREAPER_REGISTRY_H
#define CHROMEREAPER_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CR_REGISTRY_MAGIC "CRREAPR" /* 7 chars + NUL = 8 bytes */
#define CR_REGISTRY_VERSION 3u
#define CR_REGISTRY_DIR "/dev/shm"
#define CR_REGISTRY_PREFIX "chromereaper-"

/* String limits, including the NUL.  Real values are far shorter: a
 * Puppeteer or Playwright browser under ~/.cache is about 80 characters, a
 * temporary profile about 45.  A longer exe is cut (it is only shown); a
 * longer directory is not recorded at all (it is never deleted from a
 * guess). */
#define CR_SESSION_MAX 64
#define CR_EXE_MAX 216
#define CR_DIR_PATH_MAX 464

/* The defaults make one session 960 KiB of /dev/shm, all allocated when it
 * is created.  A real Selenium, Puppeteer or Playwright session makes about
 * 50 entries and 9 directory records per browser; the supervisor (`run`,
 * or preload mode's watchdog) frees those of verified-dead processes, so
 * the tables bound the browsers alive at once, not the browsers started. */
#define CR_ENTRY_CAPACITY_DEFAULT 3072u
#define CR_ENTRY_CAPACITY_MAX (1u << 24)
#define CR_DIR_CAPACITY_MAX (1u << 16)
#define CR_DIR_CAPACITY_DEFAULT 384u

#define CR_HEADER_SIZE 256u
#define CR_ENTRY_SIZE 256u
#define CR_DIR_SIZE 512u

/* The low two bits of a slot's state word; the other 30 are the low bits of
 * the entry's sequence number (CR_SLOT_WORD). */
enum cr_slot_state {
    CR_SLOT_EMPTY = 0,
    CR_SLOT_RESERVED = 1,
    CR_SLOT_COMMITTED = 2,
    CR_SLOT_REAPED = 3, /* committed, and its process verified dead and reaped */
};
#define CR_SLOT_STATE(word) ((enum cr_slot_state)((word) & 3u))
#define CR_SLOT_WORD(state, seq) ((uint32_t)(state) | (uint32_t)((seq) << 2))

/* How a process came to be recorded. */
enum cr_seen {
    CR_SEEN_CONSTRUCTOR = 1, /* the shim's constructor ran in the process */
    CR_SEEN_FORK = 2,        /* parent's fork() wrapper saw the child */
    CR_SEEN_EXEC = 3,        /* the process called an exec wrapper */
    CR_SEEN_SPAWN = 4,       /* parent's posix_spawn wrapper saw the child */
    CR_SEEN_ROOT = 5,        /* the session's root, recorded by its creator */
    CR_SEEN_EXEC_FAILED = 6, /* exec returned: the process keeps its old image */
    CR_SEEN_MAX = 6,
};

/* Entry flags. */
#define CR_ENTRY_PIDNS 0x1u /* recorded inside a non-initial PID namespace:
                               pid is namespace-local, never a host PID */

/* Where a directory record comes from. */
enum cr_dir_origin {
    CR_DIR_MKDTEMP = 1,       /* a tracked browser process created it */
    CR_DIR_USER_DATA_DIR = 2, /* named by --user-data-dir= on a tracked command line */
    CR_DIR_ORIGIN_MAX = 2,
};

/* Directory flags. */
#define CR_DIR_ABSENT_AT_LAUNCH 0x1u /* did not exist when the browser was launched */

struct cr_registry_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t entry_size;
    uint32_t entry_capacity;
    uint32_t dir_size;
    uint32_t dir_capacity;
    uint32_t owner_uid;
    int32_t root_pid;
    uint64_t root_start_time; /* clock ticks since boot, /proc/<pid>/stat field 22 */
    uint64_t created_unix;    /* seconds since the epoch */
    uint64_t entry_next;      /* atomic: sequence number of the next entry */
    uint64_t dir_next;        /* atomic: sequence number of the next directory */
    uint32_t entry_overflow;  /* atomic: appends refused because the table was full */
    uint32_t dir_overflow;
    uint32_t rounds_reaped;   /* totals kept by the reaper, for `ls` */
    uint32_t processes_reaped;
    uint32_t dirs_removed;
    uint32_t full_warned;     /* atomic: a writer warned that a table was full */
    char session[CR_SESSION_MAX];
    uint64_t pidns; /* inode of the creator's PID namespace (0: unknown): pids
                       in this registry mean something only in that namespace */
    uint8_t reserved[88];
};

struct cr_entry {
    uint32_t state; /* slot state word, atomic (CR_SLOT_WORD) */
    int32_t pid;
    int32_t ppid;
    uint32_t flags; /* CR_ENTRY_* */
    uint64_t start_time;
    uint64_t seq;     /* order of appends: later records win */
    uint32_t seen_by; /* enum cr_seen */
    uint32_t role;    /* enum cr_role */
    char exe[CR_EXE_MAX]; /* cut to fit; its --user-data-dir is a CR_DIR_USER_DATA_DIR
                             record of the same pid and start time */
};

struct cr_dir {
    uint32_t state; /* slot state word, atomic (CR_SLOT_WORD) */
    int32_t pid;    /* the process that recorded it */
    uint32_t origin;
    uint32_t flags; /* CR_DIR_* */
    uint64_t dev;   /* 0/0 when absent at launch: identity taken at reap time */
    uint64_t ino;
    uint64_t start_time; /* of the recording process */
    uint64_t seq;
    char path[CR_DIR_PATH_MAX];
};

/* A directory record's fields before its path, for registry_append_dir_path. */
struct cr_dir_head {
    uint32_t state;
    int32_t pid;
    uint32_t origin;
    uint32_t flags;
    uint64_t dev;
    uint64_t ino;
    uint64_t start_time;
    uint64_t seq;
};
_Static_assert(sizeof(struct cr_dir_head) == __builtin_offsetof(struct cr_dir, path),
               "cr_dir_head is the start of cr_dir");

_Static_assert(sizeof(struct cr_registry_header) == CR_HEADER_SIZE, "header size is part of the layout");
_Static_assert(sizeof(struct cr_entry) == CR_ENTRY_SIZE, "entry size is part of the layout");
_Static_assert(sizeof(struct cr_dir) == CR_DIR_SIZE, "dir size is part of the layout");

enum cr_registry_status {
    CR_REG_OK = 0,
    CR_REG_MISSING,  /* no such session */
    CR_REG_CORRUPT,  /* bad magic, sizes, counters or strings */
    CR_REG_FOREIGN,  /* another uid's, wrong mode, or not a regular file */
    CR_REG_VERSION,  /* a layout version this build does not speak */
    CR_REG_IO,       /* open/mmap/ftruncate failed; errno says why */
    CR_REG_EXISTS,   /* create: the session already has a registry */
    CR_REG_REAPED,   /* it was there, and another reaper finished it while we waited */
    CR_REG_BUSY,     /* another process held its lock longer than we wait */
};

/* A mapped registry.  The capacities are copied from the header when it is
 * validated: any process of the uid can rewrite the live header, and
 * nothing may index the mapping by a value read after validation. */
struct cr_registry {
    struct cr_registry_header *hdr;
    struct cr_entry *entries;
    struct cr_dir *dirs;
    size_t map_size;
    uint32_t entry_capacity;
    uint32_t dir_capacity;
    uint64_t file_dev, file_ino; /* the file registry_open mapped (0, 0 after create) */
};

/* Session ids: 1..63 characters of [A-Za-z0-9._-], not starting with '.'. */
int session_id_valid(const char *id);
/* Writes a fresh random id (16 hex digits) into buf (at least 17 bytes). */
int session_id_generate(char *buf, size_t len);

/* "/dev/shm/chromereaper-<uid>-<session>" into buf; -1 if it does not fit
 * or the id is invalid.  Async-signal-safe. */
int registry_path(char *buf, size_t len, uint32_t uid, const char *session);

size_t registry_size_for(uint32_t entry_capacity, uint32_t dir_capacity);

/* Creates the session's object (O_EXCL, mode 0600) and maps it writable. */
enum cr_registry_status registry_create(struct cr_registry *reg, const char *session,
                                        uint32_t entry_capacity, uint32_t dir_capacity);

/* Opens and validates the session of `uid`.  `writable` maps it for appends
 * (the shim); the reaper maps it read-only except for registry_set_root.
 * On failure `why` (if not NULL) receives one human-readable line. */
enum cr_registry_status registry_open(struct cr_registry *reg, uint32_t uid, const char *session,
                                      int writable, char *why, size_t why_len);

/* Validates a mapping of `size` bytes as a registry owned by `uid`. */
enum cr_registry_status registry_validate(const void *map, size_t size, uint32_t uid,
                                          char *why, size_t why_len);

void registry_close(struct cr_registry *reg);
/* Fills *reg for a mapping of `size` bytes with those capacities. */
void registry_bind(struct cr_registry *reg, void *map, size_t size, uint32_t entry_capacity,
                   uint32_t dir_capacity);

/* What a program that may never append needs of a registry, read without
 * mapping it (a mapping, its page faults and its unmapping at exit cost a
 * short program more than the rest of its use of the registry): the file,
 * checked as registry_open checks it, its header validated, and copies of
 * its newest slots.  A copy is not atomic: registry_peek_find checks it. */
#define CR_PEEK_MAX 16
struct cr_registry_peek {
    uint64_t file_dev, file_ino;
    size_t size;
    uint32_t entry_capacity, dir_capacity;
    uint64_t entry_next;   /* the header's counter, read before the slots */
    uint32_t count;        /* slots[count - k] is the append numbered entry_next - k */
    struct cr_entry slots[CR_PEEK_MAX];
};
enum cr_registry_status registry_peek(uint32_t uid, const char *session, struct cr_registry_peek *p,
                                      char *why, size_t why_len);
/* registry_entry_recent on the copies: the newest entry among the last
 * `window` appended that holds `pid` and `seen_by`, committed. */
int registry_peek_find(const struct cr_registry_peek *p, uint32_t window, pid_t pid, uint32_t seen_by,
                       struct cr_entry *out);

/* Inode of this process's PID namespace, or 0 if /proc cannot say. */
uint64_t registry_own_pidns(void);

/* Exclusive right to reap the session: an flock on the registry file, held
 * until the returned fd is closed.  Waits at most `wait_sec` while another
 * process holds it.  -1 with errno ENOENT if the registry is missing,
 * ESTALE if it was unlinked (the session reaped by another reaper) while we
 * waited, EWOULDBLOCK if it stayed locked, EPERM if the file is not one we
 * would open as a registry (another uid's, not 0600, not a regular file):
 * such a file is never waited for, whoever holds its lock. */
int registry_lock(uint32_t uid, const char *session, double wait_sec);
int registry_unlink(uint32_t uid, const char *session);

/* Records the session's root process. */
void registry_set_root(struct cr_registry *reg, pid_t pid, uint64_t start_time);

/* Appends a copy of *e (its state and seq fields are ignored).  Returns the
 * slot index, or -1 when no slot is free (the overflow counter is then
 * incremented).  A full directory table takes the slot of a record a
 * reaper settled, or of a mkdtemp directory verifiably gone (nothing, or
 * another inode, at its path).  Async-signal-safe. */
int64_t registry_append(struct cr_registry *reg, const struct cr_entry *e);
/* The same filled in place: a slot claimed (RESERVED) and cleared but for
 * its state word, or NULL when none is free (counted as overflow); the
 * caller fills its fields and publishes it.  No whole record on the
 * caller's stack: a fork child's stack pages are copied on its first write
 * to each.  Async-signal-safe. */
struct cr_entry *registry_entry_reserve(struct cr_registry *reg, uint64_t *seq);
void registry_entry_publish(struct cr_entry *slot, uint64_t seq);
int64_t registry_append_dir(struct cr_registry *reg, const struct cr_dir *d);
/* The same with the path copied straight into the slot (truncated to fit):
 * no whole record on the caller's stack, which may be a small thread's. */
int64_t registry_append_dir_path(struct cr_registry *reg, const struct cr_dir_head *d,
                                 const char *path);

/* How many slots a reader has to look at: every slot once the sequence
 * passed the capacity, else only those used so far. */
uint32_t registry_entry_count(const struct cr_registry *reg);
uint32_t registry_dir_count(const struct cr_registry *reg);
uint32_t registry_overflow(const struct cr_registry *reg);
/* 1 for the first caller of the session's life, 0 for every later one: the
 * writer whose append a full table refused first warns, once per session.
 * Async-signal-safe. */
int registry_claim_full_warning(struct cr_registry *reg);

/* The newest entry among the last `window` appended (by sequence number)
 * whose slot is where its number put it and that holds `pid` and
 * `seen_by`: 1 with a copy in *out, else 0.  A few slots next to the
 * counter (one or two pages); an entry an append had to place further on
 * is not found.  Async-signal-safe. */
int registry_entry_recent(const struct cr_registry *reg, uint32_t window, pid_t pid,
                          uint32_t seen_by, struct cr_entry *out);

/* Copies slot i into *out with its strings terminated.  Returns 1 if the slot
 * holds a committed or reaped entry that is plausible (pid > 0, known enums)
 * and was not rewritten while it was copied, 0 otherwise.  out->state holds
 * the state word: CR_SLOT_STATE(out->state) tells committed from reaped. */
int registry_entry_read(const struct cr_registry *reg, uint32_t i, struct cr_entry *out);
int registry_dir_read(const struct cr_registry *reg, uint32_t i, struct cr_dir *out);

/* The reaper's stricter reading of a slot (registry_entry_read and
 * registry_dir_read just skip what they cannot use).  A slot that is EMPTY,
 * RESERVED (its writer was killed mid-append) or rewritten while it was
 * copied holds nothing, and nothing is wrong with it: CR_CHECK_SKIP.  A
 * COMMITTED or REAPED slot was published by a writer that only ever writes
 * plausible records, so one that is not plausible proves the registry
 * corrupt (or forged): CR_CHECK_CORRUPT, `why` naming the slot and the
 * problem.  Provably corrupt, for a committed or reaped slot:
 *   - pid <= 0 or past Linux's PID_MAX_LIMIT, ppid < 0 or past it,
 *     seen_by / role / origin not one of the enum's values,
 *   - a string field (exe, path) without a NUL in it, a
 *     directory path that is not absolute,
 *   - a sequence field that is not the one its state word names,
 *   - a sequence number at or past the header's counter (entry_next /
 *     dir_next), read after the slot: the writer took its number before
 *     publishing, and the counter only grows.
 * The counter itself exceeding the capacity is normal: slots are recycled.
 * Not checked: unknown flag bits (the reaper ignores them) and start times
 * (the process check against /proc decides). */
enum cr_slot_check {
    CR_CHECK_SKIP = 0,
    CR_CHECK_OK = 1, /* *out holds the record, strings terminated */
    CR_CHECK_CORRUPT = -1,
};
enum cr_slot_check registry_entry_check(const struct cr_registry *reg, uint32_t i,
                                        struct cr_entry *out, char *why, size_t why_len);
enum cr_slot_check registry_dir_check(const struct cr_registry *reg, uint32_t i, struct cr_dir *out,
                                      char *why, size_t why_len);

/* Header counters that no sequence of appends can produce: more refused
 * appends than appends attempted (each refusal took a sequence number
 * first; a margin of PID_MAX_LIMIT covers appenders still in flight).
 * CR_REG_CORRUPT with `why`, else CR_REG_OK. */
enum cr_registry_status registry_check_counters(const struct cr_registry *reg, char *why,
                                                size_t why_len);

/* Moves slot i, still holding the entry numbered `seq`, from `from` to `to`
 * (COMMITTED -> REAPED, or REAPED/COMMITTED -> EMPTY).  Returns 1 if it did,
 * 0 if the slot holds something else by now. */
int registry_entry_transition(struct cr_registry *reg, uint32_t i, uint64_t seq,
                              enum cr_slot_state from, enum cr_slot_state to);
int registry_dir_transition(struct cr_registry *reg, uint32_t i, uint64_t seq,
                            enum cr_slot_state from, enum cr_slot_state to);

const char *registry_status_name(enum cr_registry_status st);

#endif
