#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "regguard.h"
#include "role.h"
#include "safestr.h"
#include "sysio.h"

_Static_assert(sizeof(CR_REGISTRY_MAGIC) == 8, "magic fills its field");

int session_id_valid(const char *id)
{
    size_t n = 0;
    if (!id || !*id || id[0] == '.')
        return 0;
    for (; id[n]; n++) {
        char c = id[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok || n + 1 >= CR_SESSION_MAX)
            return 0;
    }
    return 1;
}

int session_id_generate(char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[8];
    if (len < 2 * sizeof raw + 1)
        return -1;
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++) {
        buf[2 * i] = hex[raw[i] >> 4];
        buf[2 * i + 1] = hex[raw[i] & 15];
    }
    buf[2 * sizeof raw] = '\0';
    return 0;
}

int registry_path(char *buf, size_t len, uint32_t uid, const char *session)
{
    char num[24];
    if (!session_id_valid(session) || len == 0)
        return -1;
    cr_utoa(uid, num, sizeof num);
    buf[0] = '\0';
    cr_strlcat(buf, CR_REGISTRY_DIR "/" CR_REGISTRY_PREFIX, len);
    cr_strlcat(buf, num, len);
    cr_strlcat(buf, "-", len);
    return cr_strlcat(buf, session, len) < len ? 0 : -1;
}

size_t registry_size_for(uint32_t entry_capacity, uint32_t dir_capacity)
{
    return (size_t)CR_HEADER_SIZE + (size_t)entry_capacity * CR_ENTRY_SIZE +
           (size_t)dir_capacity * CR_DIR_SIZE;
}

void registry_bind(struct cr_registry *reg, void *map, size_t size, uint32_t entry_capacity,
                          uint32_t dir_capacity)
{
    reg->hdr = map;
    reg->map_size = size;
    reg->entry_capacity = entry_capacity;
    reg->dir_capacity = dir_capacity;
    reg->entries = (struct cr_entry *)((char *)map + CR_HEADER_SIZE);
    reg->dirs = (struct cr_dir *)((char *)map + CR_HEADER_SIZE + (size_t)entry_capacity * CR_ENTRY_SIZE);
}

/* Makes the registry's file, whole, and maps it.  With `unnamed`, as an
 * O_TMPFILE in the registry directory that gets its name (linkat through
 * /proc/self/fd) only once its header is complete: no reader, `ls` of
 * every session included, ever finds it half made.  Otherwise under its
 * name from the start, the magic written last.  The name must not exist. */
static enum cr_registry_status registry_file_create(const char *path, const char *session, uint32_t entry_capacity,
                                                    uint32_t dir_capacity, int unnamed, void **out)
{
    size_t size = registry_size_for(entry_capacity, dir_capacity);
    int fd = unnamed ? open(CR_REGISTRY_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)
                     : open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? CR_REG_EXISTS : CR_REG_IO;
    /* the umask may have narrowed 0600 further; make it exactly 0600.  The
     * space is allocated now, not on first write: a page fault on a full
     * tmpfs is SIGBUS in whatever program the shim is running in. */
    void *map = MAP_FAILED;
    if (fchmod(fd, 0600) == 0 && ftruncate(fd, (off_t)size) == 0) {
        int err = posix_fallocate(fd, 0, (off_t)size);
        if (err == 0)
            map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        else
            errno = err;
    }
    if (map != MAP_FAILED) {
        struct cr_registry_header *h = map;
        h->version = CR_REGISTRY_VERSION;
        h->header_size = CR_HEADER_SIZE;
        h->entry_size = CR_ENTRY_SIZE;
        h->entry_capacity = entry_capacity;
        h->dir_size = CR_DIR_SIZE;
        h->dir_capacity = dir_capacity;
        h->owner_uid = (uint32_t)getuid();
        h->created_unix = (uint64_t)time(NULL);
        h->pidns = registry_own_pidns();
        cr_strlcpy(h->session, session, sizeof h->session);
        /* the magic goes last: a reader never sees a half-made header as valid */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(h->magic, CR_REGISTRY_MAGIC, sizeof h->magic);
    }
    char proc[40] = "/proc/self/fd/", num[16];
    cr_utoa((uint32_t)fd, num, sizeof num);
    cr_strlcat(proc, num, sizeof proc);
    if (map != MAP_FAILED && (!unnamed || linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)) {
        close(fd);
        *out = map;
        return CR_REG_OK;
    }
    int e = errno;
    if (map != MAP_FAILED)
        munmap(map, size);
    if (!unnamed)
        unlink(path);
    close(fd);
    errno = e;
    return e == EEXIST ? CR_REG_EXISTS : CR_REG_IO;
}

/* File times come from a clock that moves once a kernel tick (1-10 ms):
 * a directory made in the tick the registry was made in has the very same
 * birth time, and could as well be older, so the reaper keeps it ("made
 * before the session").  The session's first tick is let pass before the
 * caller starts anything: whatever the session makes is then provably
 * younger than its registry.  Bounded: a clock that does not move (or a
 * birth time in the future) costs 20 ms at most. */
static void registry_birth_tick_passes(const char *path)
{
    struct statx sx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) < 0 || !(sx.stx_mask & STATX_BTIME))
        return;
    for (int i = 0; i < 40; i++) {
        struct timespec now, pause = {0, 500000};
        if (clock_gettime(CLOCK_REALTIME_COARSE, &now) < 0 || now.tv_sec > sx.stx_btime.tv_sec ||
            (now.tv_sec == sx.stx_btime.tv_sec && now.tv_nsec > (long)sx.stx_btime.tv_nsec))
            return;
        nanosleep(&pause, NULL);
    }
}

enum cr_registry_status registry_create(struct cr_registry *reg, const char *session,
                                        uint32_t entry_capacity, uint32_t dir_capacity)
{
    char path[128];
    memset(reg, 0, sizeof *reg);
    if (registry_path(path, sizeof path, (uint32_t)getuid(), session) < 0 || entry_capacity == 0 ||
        entry_capacity > CR_ENTRY_CAPACITY_MAX || dir_capacity > CR_DIR_CAPACITY_MAX) {
        errno = EINVAL;
        return CR_REG_IO;
    }
    void *map = NULL;
    enum cr_registry_status st = registry_file_create(path, session, entry_capacity, dir_capacity, 1, &map);
    if (st == CR_REG_IO) /* no O_TMPFILE here, or no /proc to name it through */
        st = registry_file_create(path, session, entry_capacity, dir_capacity, 0, &map);
    if (st != CR_REG_OK)
        return st;
    registry_birth_tick_passes(path);
    size_t size = registry_size_for(entry_capacity, dir_capacity);
    regguard_add(map, size);
    registry_bind(reg, map, size, entry_capacity, dir_capacity);
    return CR_REG_OK;
}

static enum cr_registry_status fail(char *why, size_t why_len, enum cr_registry_status st,
                                    const char *msg)
{
    if (why && why_len)
        cr_strlcpy(why, msg, why_len);
    return st;
}

enum cr_registry_status registry_validate(const void *map, size_t size, uint32_t uid, char *why,
                                          size_t why_len)
{
    const struct cr_registry_header *h = map;
    if (size < CR_HEADER_SIZE)
        return fail(why, why_len, CR_REG_CORRUPT, "truncated: smaller than its header");
    if (memcmp(h->magic, CR_REGISTRY_MAGIC, sizeof h->magic) != 0)
        return fail(why, why_len, CR_REG_CORRUPT, "not a chromereaper registry (bad magic)");
    if (h->version != CR_REGISTRY_VERSION) {
        if (why && why_len)
            snprintf(why, why_len, "registry layout version %u not supported (this build reads %u)",
                     h->version, CR_REGISTRY_VERSION);
        return CR_REG_VERSION;
    }
    if (h->header_size != CR_HEADER_SIZE || h->entry_size != CR_ENTRY_SIZE ||
        h->dir_size != CR_DIR_SIZE)
        return fail(why, why_len, CR_REG_CORRUPT, "record sizes do not match the layout");
    if (h->owner_uid != uid)
        return fail(why, why_len, CR_REG_FOREIGN, "registry header names another owner");
    if (h->entry_capacity == 0 || h->entry_capacity > CR_ENTRY_CAPACITY_MAX ||
        h->dir_capacity > CR_DIR_CAPACITY_MAX)
        return fail(why, why_len, CR_REG_CORRUPT, "implausible capacity");
    if (registry_size_for(h->entry_capacity, h->dir_capacity) != size)
        return fail(why, why_len, CR_REG_CORRUPT, "file size does not match its capacity");
    if (memchr(h->session, '\0', sizeof h->session) == NULL || !session_id_valid(h->session))
        return fail(why, why_len, CR_REG_CORRUPT, "session name is not valid");
    if (h->root_pid < 0)
        return fail(why, why_len, CR_REG_CORRUPT, "negative root pid");
    return CR_REG_OK;
}

/* Opens the session's file and checks it as a registry before anything
 * is read from it: CR_REG_OK with the descriptor in *fd (the caller closes
 * it) and its fstat in *st. */
static enum cr_registry_status open_checked(uint32_t uid, const char *session, int writable, int *fd_out,
                                            struct stat *st_out, char *why, size_t why_len)
{
    char path[128];
    if (registry_path(path, sizeof path, uid, session) < 0)
        return fail(why, why_len, CR_REG_MISSING, "invalid session id");
    int fd = cr_open(path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return fail(why, why_len, CR_REG_MISSING, "no registry for this session");
        if (errno == ELOOP)
            return fail(why, why_len, CR_REG_FOREIGN, "registry path is a symlink");
        struct stat lst;
        if ((errno == EACCES || errno == EPERM) && lstat(path, &lst) == 0 && lst.st_uid != uid) {
            if (why && why_len)
                snprintf(why, why_len, "registry file belongs to another uid (%u, not %u)",
                         (unsigned)lst.st_uid, uid);
            return CR_REG_FOREIGN;
        }
        return fail(why, why_len, CR_REG_IO, "cannot open the registry");
    }
    struct stat st;
    enum cr_registry_status rc = CR_REG_OK;
    if (cr_fstat(fd, &st) < 0)
        rc = fail(why, why_len, CR_REG_IO, "cannot stat the registry");
    else if (!S_ISREG(st.st_mode))
        rc = fail(why, why_len, CR_REG_FOREIGN, "registry is not a regular file");
    else if (st.st_uid != uid) {
        rc = CR_REG_FOREIGN;
        if (why && why_len)
            snprintf(why, why_len, "registry file belongs to another uid (%u, not %u)",
                     (unsigned)st.st_uid, uid);
    } else if ((st.st_mode & 07777) != 0600) {
        rc = CR_REG_FOREIGN;
        if (why && why_len)
            snprintf(why, why_len, "registry file mode is %04o, not 0600", (unsigned)(st.st_mode & 07777));
    }
    if (rc != CR_REG_OK) {
        cr_close(fd);
        return rc;
    }
    size_t size = (size_t)st.st_size;
    if (size < CR_HEADER_SIZE) {
        cr_close(fd);
        return fail(why, why_len, CR_REG_CORRUPT, "truncated: smaller than its header");
    }
    /* Reading a hole of a tmpfs file through a shared mapping allocates it:
     * a sparse file claiming 2^24 entries would make a reader fill
     * /dev/shm (SIGBUS once it is full).  registry_create allocates the
     * whole file; older builds' registries may be sparse and larger than
     * ours: their header, read without a mapping, says which version they
     * are, and that is the refusal they get. */
    uint64_t allocated = (uint64_t)st.st_blocks * 512u;
    if (allocated < (uint64_t)size &&
        size > registry_size_for(CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT)) {
        struct cr_registry_header old;
        int other = cr_pread(fd, &old, sizeof old, 0) == (ssize_t)sizeof old &&
                    memcmp(old.magic, CR_REGISTRY_MAGIC, sizeof old.magic) == 0 &&
                    old.version != CR_REGISTRY_VERSION;
        cr_close(fd);
        if (other)
            return registry_validate(&old, size, uid, why, why_len);
        if (why && why_len)
            snprintf(why, why_len, "sparse file: %llu bytes, only %llu of them allocated",
                     (unsigned long long)size, (unsigned long long)allocated);
        return CR_REG_CORRUPT;
    }
    *fd_out = fd;
    *st_out = st;
    return CR_REG_OK;
}

enum cr_registry_status registry_open(struct cr_registry *reg, uint32_t uid, const char *session,
                                      int writable, char *why, size_t why_len)
{
    memset(reg, 0, sizeof *reg);
    int fd;
    struct stat st;
    enum cr_registry_status rc = open_checked(uid, session, writable, &fd, &st, why, why_len);
    if (rc != CR_REG_OK)
        return rc;
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    cr_close(fd);
    if (map == MAP_FAILED)
        return fail(why, why_len, CR_REG_IO, "cannot map the registry");
    regguard_add(map, size);
    /* validate a private copy: the live header can change under us */
    struct cr_registry_header snap;
    memcpy(&snap, map, sizeof snap);
    rc = registry_validate(&snap, size, uid, why, why_len);
    if (rc != CR_REG_OK) {
        regguard_remove(map);
        munmap(map, size);
        return rc;
    }
    registry_bind(reg, map, size, snap.entry_capacity, snap.dir_capacity);
    reg->file_dev = (uint64_t)st.st_dev;
    reg->file_ino = (uint64_t)st.st_ino;
    return CR_REG_OK;
}

enum cr_registry_status registry_peek(uint32_t uid, const char *session, struct cr_registry_peek *p,
                                      char *why, size_t why_len)
{
    memset(p, 0, sizeof *p);
    int fd;
    struct stat st;
    enum cr_registry_status rc = open_checked(uid, session, 0, &fd, &st, why, why_len);
    if (rc != CR_REG_OK)
        return rc;
    size_t size = (size_t)st.st_size;
    struct cr_registry_header h;
    if (cr_pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        rc = fail(why, why_len, CR_REG_IO, "cannot read the registry's header");
    else
        rc = registry_validate(&h, size, uid, why, why_len);
    if (rc == CR_REG_OK) {
        p->file_dev = (uint64_t)st.st_dev;
        p->file_ino = (uint64_t)st.st_ino;
        p->size = size;
        p->entry_capacity = h.entry_capacity;
        p->dir_capacity = h.dir_capacity;
        p->entry_next = h.entry_next;
        /* the newest slots, oldest first: at most two runs (the table wraps) */
        uint64_t n = h.entry_next < CR_PEEK_MAX ? h.entry_next : CR_PEEK_MAX;
        if (n > h.entry_capacity)
            n = h.entry_capacity;
        uint64_t first = h.entry_next - n;
        uint32_t got = 0;
        while (got < n) {
            uint32_t i = (uint32_t)((first + got) % h.entry_capacity);
            uint32_t run = h.entry_capacity - i < n - got ? h.entry_capacity - i : (uint32_t)(n - got);
            size_t bytes = (size_t)run * CR_ENTRY_SIZE;
            off_t at = (off_t)(CR_HEADER_SIZE + (size_t)i * CR_ENTRY_SIZE);
            if (cr_pread(fd, &p->slots[got], bytes, at) != (ssize_t)bytes)
                break;
            got += run;
        }
        p->count = got;
    }
    cr_close(fd);
    return rc;
}

int registry_peek_find(const struct cr_registry_peek *p, uint32_t window, pid_t pid, uint32_t seen_by,
                       struct cr_entry *out)
{
    for (uint32_t k = 1; k <= window && k <= p->count; k++) {
        const struct cr_entry *e = &p->slots[p->count - k];
        uint64_t seq = p->entry_next - k;
        /* a copy is not atomic: the state word, the sequence field and the
         * fields checked must all say it is the entry numbered seq */
        if (e->pid != pid || e->seen_by != seen_by || e->seq != seq ||
            e->state != CR_SLOT_WORD(CR_SLOT_COMMITTED, seq) || e->ppid < 0 ||
            e->role > CR_ROLE_MAX || !memchr(e->exe, '\0', sizeof e->exe))
            continue;
        *out = *e;
        return 1;
    }
    return 0;
}

uint64_t registry_own_pidns(void)
{
    struct stat st;
    return stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

void registry_close(struct cr_registry *reg)
{
    if (reg->hdr) {
        regguard_remove(reg->hdr);
        munmap(reg->hdr, reg->map_size);
    }
    memset(reg, 0, sizeof *reg);
}

int registry_lock(uint32_t uid, const char *session, double wait_sec)
{
    char path[128];
    if (registry_path(path, sizeof path, uid, session) < 0) {
        errno = ENOENT;
        return -1;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != uid || (st.st_mode & 07777) != 0600) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    /* polled, so that a holder that never lets go costs a bounded wait */
    struct timespec nap = {0, 20 * 1000 * 1000};
    for (double waited = 0;; waited += 0.02) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= wait_sec) {
            int e = errno == EINTR ? EWOULDBLOCK : errno;
            close(fd);
            errno = e;
            return -1;
        }
        nanosleep(&nap, NULL);
    }
    if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
        close(fd);
        errno = ESTALE;
        return -1;
    }
    return fd;
}

int registry_unlink(uint32_t uid, const char *session)
{
    char path[128];
    if (registry_path(path, sizeof path, uid, session) < 0) {
        errno = EINVAL;
        return -1;
    }
    return unlink(path);
}

void registry_set_root(struct cr_registry *reg, pid_t pid, uint64_t start_time)
{
    reg->hdr->root_start_time = start_time;
    __atomic_store_n(&reg->hdr->root_pid, pid, __ATOMIC_RELEASE);
}

/* Claims a free slot for the append numbered *seq: the first EMPTY one from
 * seq % capacity on.  `base`/`stride` describe the table. */
static int64_t claim_slot(char *base, size_t stride, uint32_t capacity, uint64_t *next,
                          uint64_t *seq)
{
    *seq = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
    for (uint32_t k = 0; k < capacity; k++) {
        uint32_t i = (uint32_t)((*seq + k) % capacity);
        uint32_t *state = (uint32_t *)(base + (size_t)i * stride);
        uint32_t word = __atomic_load_n(state, __ATOMIC_RELAXED);
        if (CR_SLOT_STATE(word) == CR_SLOT_EMPTY &&
            __atomic_compare_exchange_n(state, &word, CR_SLOT_RESERVED, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return i;
    }
    return -1;
}

/* 1 if the directory a mkdtemp record names verifiably no longer exists:
 * nothing is at its path, or another inode is.  Records without an
 * identity (a --user-data-dir absent at launch) are never judged.  The
 * slot is live shared memory: its path is used only if it is terminated. */
static int dir_record_gone(const struct cr_dir *d)
{
    uint64_t dev = d->dev, ino = d->ino;
    if (d->origin != CR_DIR_MKDTEMP || (dev == 0 && ino == 0) || d->path[0] != '/' ||
        !memchr(d->path, '\0', sizeof d->path))
        return 0;
    struct stat st;
    if (lstat(d->path, &st) < 0)
        return errno == ENOENT || errno == ENOTDIR;
    return (uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino;
}

/* A full directory table: a browser that makes and removes temporary
 * directories all day must not crowd out the profile directory it makes
 * next.  Takes a slot whose record a reaper settled (REAPED) or whose
 * directory is verifiably gone; the compare-and-swap on the whole state
 * word fails if the slot was rewritten since it was judged. */
static int64_t reclaim_dir_slot(struct cr_registry *reg)
{
    for (uint32_t i = 0; i < reg->dir_capacity; i++) {
        struct cr_dir *d = &reg->dirs[i];
        uint32_t word = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);
        enum cr_slot_state st = CR_SLOT_STATE(word);
        if (st != CR_SLOT_REAPED && !(st == CR_SLOT_COMMITTED && dir_record_gone(d)))
            continue;
        if (__atomic_compare_exchange_n(&d->state, &word, CR_SLOT_RESERVED, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return i;
    }
    return -1;
}

/* Fills a claimed slot (everything after the state word), then publishes it. */
static void publish(void *slot, const void *src, size_t size, uint64_t seq, uint64_t *seq_field)
{
    memcpy((char *)slot + sizeof(uint32_t), (const char *)src + sizeof(uint32_t),
           size - sizeof(uint32_t));
    *seq_field = seq;
    __atomic_store_n((uint32_t *)slot, CR_SLOT_WORD(CR_SLOT_COMMITTED, seq), __ATOMIC_RELEASE);
}

struct cr_entry *registry_entry_reserve(struct cr_registry *reg, uint64_t *seq)
{
    struct cr_registry_header *h = reg->hdr;
    int64_t i = claim_slot((char *)reg->entries, CR_ENTRY_SIZE, reg->entry_capacity, &h->entry_next,
                           seq);
    if (i < 0) {
        __atomic_fetch_add(&h->entry_overflow, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    struct cr_entry *slot = &reg->entries[i];
    memset((char *)slot + sizeof slot->state, 0, sizeof *slot - sizeof slot->state);
    return slot;
}

void registry_entry_publish(struct cr_entry *slot, uint64_t seq)
{
    slot->seq = seq;
    __atomic_store_n(&slot->state, CR_SLOT_WORD(CR_SLOT_COMMITTED, seq), __ATOMIC_RELEASE);
}

int64_t registry_append(struct cr_registry *reg, const struct cr_entry *e)
{
    uint64_t seq;
    struct cr_entry *slot = registry_entry_reserve(reg, &seq);
    if (!slot)
        return -1;
    publish(slot, e, sizeof *e, seq, &slot->seq);
    return slot - reg->entries;
}

/* A directory slot, reclaimed from a gone directory when the table is full;
 * -1 (counted as overflow) when there is none. */
static int64_t claim_dir_slot(struct cr_registry *reg, uint64_t *seq)
{
    struct cr_registry_header *h = reg->hdr;
    int64_t i = claim_slot((char *)reg->dirs, CR_DIR_SIZE, reg->dir_capacity, &h->dir_next, seq);
    if (i < 0)
        i = reclaim_dir_slot(reg);
    if (i < 0)
        __atomic_fetch_add(&h->dir_overflow, 1, __ATOMIC_RELAXED);
    return i;
}

int64_t registry_append_dir(struct cr_registry *reg, const struct cr_dir *d)
{
    uint64_t seq;
    int64_t i = claim_dir_slot(reg, &seq);
    if (i >= 0)
        publish(&reg->dirs[i], d, sizeof *d, seq, &reg->dirs[i].seq);
    return i;
}

int64_t registry_append_dir_path(struct cr_registry *reg, const struct cr_dir_head *d,
                                 const char *path)
{
    uint64_t seq;
    int64_t i = claim_dir_slot(reg, &seq);
    if (i >= 0) {
        struct cr_dir *slot = &reg->dirs[i];
        cr_strlcpy(slot->path, path, sizeof slot->path);
        publish(slot, d, sizeof *d, seq, &slot->seq);
    }
    return i;
}

int registry_entry_recent(const struct cr_registry *reg, uint32_t window, pid_t pid,
                          uint32_t seen_by, struct cr_entry *out)
{
    uint64_t next = __atomic_load_n(&reg->hdr->entry_next, __ATOMIC_ACQUIRE);
    for (uint64_t k = 1; k <= window && k <= next && k <= reg->entry_capacity; k++) {
        uint64_t seq = next - k;
        uint32_t i = (uint32_t)(seq % reg->entry_capacity);
        const struct cr_entry *slot = &reg->entries[i];
        /* a glance before the copy: most slots are someone else's */
        if (__atomic_load_n(&slot->pid, __ATOMIC_RELAXED) != pid)
            continue;
        if (registry_entry_read(reg, i, out) && out->seq == seq && out->seen_by == seen_by &&
            CR_SLOT_STATE(out->state) == CR_SLOT_COMMITTED)
            return 1;
    }
    return 0;
}

static uint32_t slots_in_use(const uint64_t *next, uint32_t capacity)
{
    uint64_t n = __atomic_load_n(next, __ATOMIC_ACQUIRE);
    return n < capacity ? (uint32_t)n : capacity;
}

uint32_t registry_entry_count(const struct cr_registry *reg)
{
    return slots_in_use(&reg->hdr->entry_next, reg->entry_capacity);
}

uint32_t registry_dir_count(const struct cr_registry *reg)
{
    return slots_in_use(&reg->hdr->dir_next, reg->dir_capacity);
}

uint32_t registry_overflow(const struct cr_registry *reg)
{
    return __atomic_load_n(&reg->hdr->entry_overflow, __ATOMIC_RELAXED) +
           __atomic_load_n(&reg->hdr->dir_overflow, __ATOMIC_RELAXED);
}

int registry_claim_full_warning(struct cr_registry *reg)
{
    return __atomic_exchange_n(&reg->hdr->full_warned, 1, __ATOMIC_RELAXED) == 0;
}

/* Seqlock-style copy: the state word before and after the copy must agree
 * and say committed or reaped (else 0: nothing to read), and name the
 * copied entry's sequence (else -1: a consistent copy of a slot whose
 * sequence field no writer wrote). */
static int copy_slot_checked(const void *slot, void *out, size_t size, const uint64_t *out_seq)
{
    const uint32_t *state = slot;
    uint32_t before = __atomic_load_n(state, __ATOMIC_ACQUIRE);
    enum cr_slot_state st = CR_SLOT_STATE(before);
    if (st != CR_SLOT_COMMITTED && st != CR_SLOT_REAPED)
        return 0;
    memcpy(out, slot, size);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint32_t after = __atomic_load_n(state, __ATOMIC_RELAXED);
    /* same entry still there (being marked reaped meanwhile changes nothing) */
    st = CR_SLOT_STATE(after);
    if ((after >> 2) != (before >> 2) || (st != CR_SLOT_COMMITTED && st != CR_SLOT_REAPED))
        return 0;
    *(uint32_t *)out = after;
    return CR_SLOT_WORD(0, *out_seq) == (before & ~3u) ? 1 : -1;
}

static int copy_slot(const void *slot, void *out, size_t size, const uint64_t *out_seq)
{
    return copy_slot_checked(slot, out, size, out_seq) == 1;
}

int registry_entry_read(const struct cr_registry *reg, uint32_t i, struct cr_entry *out)
{
    if (i >= reg->entry_capacity || !copy_slot(&reg->entries[i], out, sizeof *out, &out->seq))
        return 0;
    out->exe[sizeof out->exe - 1] = '\0';
    return out->pid > 0 && out->ppid >= 0 && out->seen_by >= 1 && out->seen_by <= CR_SEEN_MAX &&
           out->role <= CR_ROLE_MAX;
}

int registry_dir_read(const struct cr_registry *reg, uint32_t i, struct cr_dir *out)
{
    if (i >= reg->dir_capacity || !copy_slot(&reg->dirs[i], out, sizeof *out, &out->seq))
        return 0;
    out->path[sizeof out->path - 1] = '\0';
    return out->pid > 0 && out->origin >= 1 && out->origin <= CR_DIR_ORIGIN_MAX &&
           out->path[0] == '/';
}

/* Linux never hands out a pid above PID_MAX_LIMIT (include/linux/threads.h,
 * 4M on 64-bit), inside a PID namespace or not. */
#define CR_PID_MAX_LIMIT (1 << 22)

static enum cr_slot_check corrupt(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum cr_slot_check corrupt(char *why, size_t why_len, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return CR_CHECK_CORRUPT;
}

/* The part of the checks both tables share: the copy, and the sequence. */
static enum cr_slot_check check_copy(const void *slot, void *out, size_t size,
                                     const uint64_t *out_seq, const uint64_t *next,
                                     const char *what, uint32_t i, char *why, size_t why_len)
{
    int c = copy_slot_checked(slot, out, size, out_seq);
    if (c == 0)
        return CR_CHECK_SKIP;
    /* read after the copy: its writer took the number before publishing */
    uint64_t n = __atomic_load_n(next, __ATOMIC_ACQUIRE);
    if (c < 0)
        return corrupt(why, why_len, "%s %u: its sequence number %llu is not the one its state word names",
                       what, i, (unsigned long long)*out_seq);
    if (*out_seq >= n)
        return corrupt(why, why_len, "%s %u has sequence number %llu, but only %llu were ever appended",
                       what, i, (unsigned long long)*out_seq, (unsigned long long)n);
    return CR_CHECK_OK;
}

enum cr_slot_check registry_entry_check(const struct cr_registry *reg, uint32_t i,
                                        struct cr_entry *out, char *why, size_t why_len)
{
    if (i >= reg->entry_capacity)
        return CR_CHECK_SKIP;
    enum cr_slot_check c = check_copy(&reg->entries[i], out, sizeof *out, &out->seq,
                                      &reg->hdr->entry_next, "entry", i, why, why_len);
    if (c != CR_CHECK_OK)
        return c;
    if (out->pid <= 0 || out->pid > CR_PID_MAX_LIMIT)
        return corrupt(why, why_len, "entry %u has pid %d", i, (int)out->pid);
    if (out->ppid < 0 || out->ppid > CR_PID_MAX_LIMIT)
        return corrupt(why, why_len, "entry %u has parent pid %d", i, (int)out->ppid);
    if (out->seen_by < 1 || out->seen_by > CR_SEEN_MAX)
        return corrupt(why, why_len, "entry %u has an unknown seen-by value %u", i, out->seen_by);
    if (out->role > CR_ROLE_MAX)
        return corrupt(why, why_len, "entry %u has an unknown role %u", i, out->role);
    if (!memchr(out->exe, '\0', sizeof out->exe))
        return corrupt(why, why_len, "entry %u: its exe is not NUL-terminated", i);
    return CR_CHECK_OK;
}

enum cr_slot_check registry_dir_check(const struct cr_registry *reg, uint32_t i, struct cr_dir *out,
                                      char *why, size_t why_len)
{
    if (i >= reg->dir_capacity)
        return CR_CHECK_SKIP;
    enum cr_slot_check c = check_copy(&reg->dirs[i], out, sizeof *out, &out->seq,
                                      &reg->hdr->dir_next, "directory", i, why, why_len);
    if (c != CR_CHECK_OK)
        return c;
    if (out->pid <= 0 || out->pid > CR_PID_MAX_LIMIT)
        return corrupt(why, why_len, "directory %u has pid %d", i, (int)out->pid);
    if (out->origin < 1 || out->origin > CR_DIR_ORIGIN_MAX)
        return corrupt(why, why_len, "directory %u has an unknown origin %u", i, out->origin);
    if (!memchr(out->path, '\0', sizeof out->path))
        return corrupt(why, why_len, "directory %u: its path is not NUL-terminated", i);
    if (out->path[0] != '/')
        return corrupt(why, why_len, "directory %u: its path is not absolute", i);
    return CR_CHECK_OK;
}

enum cr_registry_status registry_check_counters(const struct cr_registry *reg, char *why,
                                                size_t why_len)
{
    const struct cr_registry_header *h = reg->hdr;
    /* overflow first: a refusal's sequence number was taken before it */
    uint64_t eo = __atomic_load_n(&h->entry_overflow, __ATOMIC_ACQUIRE);
    uint64_t dov = __atomic_load_n(&h->dir_overflow, __ATOMIC_ACQUIRE);
    uint64_t en = __atomic_load_n(&h->entry_next, __ATOMIC_ACQUIRE);
    uint64_t dn = __atomic_load_n(&h->dir_next, __ATOMIC_ACQUIRE);
    if (eo > en + CR_PID_MAX_LIMIT) {
        corrupt(why, why_len, "%llu appends refused, but only %llu entries were ever appended",
                (unsigned long long)eo, (unsigned long long)en);
        return CR_REG_CORRUPT;
    }
    if (dov > dn + CR_PID_MAX_LIMIT) {
        corrupt(why, why_len, "%llu directory appends refused, but only %llu were ever appended",
                (unsigned long long)dov, (unsigned long long)dn);
        return CR_REG_CORRUPT;
    }
    return CR_REG_OK;
}

static int transition(uint32_t *state, uint64_t seq, enum cr_slot_state from,
                      enum cr_slot_state to)
{
    uint32_t expect = CR_SLOT_WORD(from, seq);
    uint32_t word = to == CR_SLOT_EMPTY ? CR_SLOT_EMPTY : CR_SLOT_WORD(to, seq);
    return __atomic_compare_exchange_n(state, &expect, word, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

int registry_entry_transition(struct cr_registry *reg, uint32_t i, uint64_t seq,
                              enum cr_slot_state from, enum cr_slot_state to)
{
    return i < reg->entry_capacity && transition(&reg->entries[i].state, seq, from, to);
}

int registry_dir_transition(struct cr_registry *reg, uint32_t i, uint64_t seq,
                            enum cr_slot_state from, enum cr_slot_state to)
{
    return i < reg->dir_capacity && transition(&reg->dirs[i].state, seq, from, to);
}

const char *registry_status_name(enum cr_registry_status st)
{
    switch (st) {
    case CR_REG_OK: return "ok";
    case CR_REG_MISSING: return "missing";
    case CR_REG_CORRUPT: return "corrupt";
    case CR_REG_FOREIGN: return "foreign";
    case CR_REG_VERSION: return "version";
    case CR_REG_IO: return "io";
    case CR_REG_EXISTS: return "exists";
    case CR_REG_REAPED: return "reaped";
    case CR_REG_BUSY: return "busy";
    }
    return "unknown";
}
