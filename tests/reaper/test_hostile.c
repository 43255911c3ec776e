/* The registry is hostile input.  Each test writes a registry that is
 * broken in one way into /dev/shm (truncated, wrong magic or version,
 * capacity past the file, a sparse file claiming huge tables, impossible
 * counters or sequence numbers, unterminated strings, implausible pids,
 * another owner, mode 0644, a symlink), runs `chromereaper reap` and `chromereaper ls` on it, and
 * expects exit code 3 and one line naming the problem, with nothing
 * signalled or deleted: the registry names a live "chromium" (a bystander,
 * which ignores SIGTERM) and a directory, and both must still be there.
 * The controls show that the same registry, intact, gets both reaped. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"
#include "role.h"
#include "safestr.h"
#include "support.h"

#define ENTRIES 4u
#define DIRS 2u
#define MAX_TRACKED 16

/* A registry image built by hand: the header, ENTRIES entries, DIRS dirs. */
struct image {
    unsigned char buf[CR_HEADER_SIZE + ENTRIES * CR_ENTRY_SIZE + DIRS * CR_DIR_SIZE];
    struct cr_registry_header *h;
    struct cr_entry *e;
    struct cr_dir *d;
};

/* A process and a directory that a reap of the registry would take. */
struct victim {
    pid_t pid;
    uint64_t start;
    char dir[256];
    struct stat st;
};

static int counter;
static char paths[MAX_TRACKED][128]; /* /dev/shm objects to remove */
static int npaths;
static struct victim victims[2];
static int nvictims;

static void track(const char *path)
{
    cr_assert_lt(npaths, MAX_TRACKED);
    cr_strlcpy(paths[npaths++], path, sizeof paths[0]);
}

static void new_session(char *id, size_t len)
{
    snprintf(id, len, "crtest-hostile-%d-%d", (int)getpid(), counter++);
}

/* A "chromium" that ignores SIGTERM, run as `uid`, and a directory owned
 * by `uid` under /tmp.  It carries the cookie of `session`, the one whose
 * registry records it: records alone tie nothing to a session. */
static struct victim *new_victim(uint32_t uid, const char *session)
{
    cr_assert_lt(nvictims, 2);
    struct victim *v = &victims[nvictims++];
    memset(v, 0, sizeof *v);
    v->pid = -1;
    /* a name Chrome gives its temp directories: the reaper removes no
     * other directory that no browser was seen using */
    snprintf(v->dir, sizeof v->dir, "/tmp/org.chromium.Chromium.crtest-hostile-XXXXXX");
    cr_assert_not_null(mkdtemp(v->dir), "mkdtemp: %s", strerror(errno));
    char num[16];
    snprintf(num, sizeof num, "%u", uid);
    char *own[] = {(char *)ts_build("fixtures/fake_chromium"), "bystander", NULL};
    char *as[] = {"/usr/bin/setpriv", "--reuid", num, "--regid", num, "--clear-groups",
                  (char *)ts_build("fixtures/fake_chromium"), "bystander", NULL};
    if (uid != (uint32_t)getuid())
        cr_assert_eq(chown(v->dir, uid, uid), 0, "%s", strerror(errno));
    setenv("CHROMEREAPER_SESSION", session, 1);
    v->pid = ts_spawn(uid == (uint32_t)getuid() ? own : as, NULL, NULL);
    unsetenv("CHROMEREAPER_SESSION");
    /* up once it runs as `uid` under the name "chromium" (setpriv, then
     * the fixture, exec and re-exec in the same process) */
    int up = 0;
    for (int i = 0; i < 500 && !up; i++) {
        char cmd[64] = "";
        size_t len = 0;
        uid_t now = (uid_t)-1;
        up = proc_uid_read(v->pid, &now) == 0 && now == uid &&
             proc_file_read(v->pid, "cmdline", cmd, sizeof cmd, &len) == 0 && strcmp(cmd, "chromium") == 0;
        if (!up)
            usleep(10000);
    }
    cr_assert(up, "the bystander never came up as uid %u", uid);
    struct proc_stat ps;
    cr_assert_eq(proc_stat_read(v->pid, &ps), 0);
    v->start = ps.start_time;
    cr_assert_eq(stat(v->dir, &v->st), 0);
    return v;
}

static void teardown(void)
{
    for (int i = 0; i < nvictims; i++) {
        if (victims[i].pid > 0) {
            kill(victims[i].pid, SIGKILL);
            ts_waitpid(victims[i].pid, 10);
        }
        ts_rm_rf(victims[i].dir);
    }
    nvictims = 0;
    for (int i = 0; i < npaths; i++)
        unlink(paths[i]);
    npaths = 0;
}

TestSuite(hostile, .fini = teardown, .timeout = 60);

/* A valid registry of `uid`/`id` recording v: its browser process (a spawn
 * record by the test, then its own exec record) and its mkdtemp directory.
 * Created an hour ago with no root recorded, so it is also stale. */
static void image_make(struct image *im, uint32_t uid, const char *id, const struct victim *v)
{
    memset(im->buf, 0, sizeof im->buf);
    im->h = (struct cr_registry_header *)im->buf;
    im->e = (struct cr_entry *)(im->buf + CR_HEADER_SIZE);
    im->d = (struct cr_dir *)(im->buf + CR_HEADER_SIZE + ENTRIES * CR_ENTRY_SIZE);
    struct cr_registry_header *h = im->h;
    memcpy(h->magic, CR_REGISTRY_MAGIC, sizeof h->magic);
    h->version = CR_REGISTRY_VERSION;
    h->header_size = CR_HEADER_SIZE;
    h->entry_size = CR_ENTRY_SIZE;
    h->entry_capacity = ENTRIES;
    h->dir_size = CR_DIR_SIZE;
    h->dir_capacity = DIRS;
    h->owner_uid = uid;
    h->created_unix = (uint64_t)time(NULL) - 3600;
    cr_strlcpy(h->session, id, sizeof h->session);
    for (uint32_t i = 0; i < 2; i++) {
        struct cr_entry *e = &im->e[i];
        e->state = CR_SLOT_WORD(CR_SLOT_COMMITTED, i);
        e->seq = i;
        e->pid = v->pid;
        e->ppid = getpid();
        e->start_time = v->start;
        e->seen_by = i == 0 ? CR_SEEN_SPAWN : CR_SEEN_EXEC;
        e->role = CR_ROLE_BROWSER;
        cr_strlcpy(e->exe, "/usr/lib/chromium/chromium", sizeof e->exe);
    }
    h->entry_next = 2;
    struct cr_dir *d = &im->d[0];
    d->state = CR_SLOT_WORD(CR_SLOT_COMMITTED, 0);
    d->seq = 0;
    d->pid = v->pid;
    d->start_time = v->start;
    d->origin = CR_DIR_MKDTEMP;
    d->dev = (uint64_t)v->st.st_dev;
    d->ino = (uint64_t)v->st.st_ino;
    cr_strlcpy(d->path, v->dir, sizeof d->path);
    h->dir_next = 1;
}

/* The reaper keeps every directory made before its session: the registry
 * just written at `path` (file descriptor `fd`, open for writing) must be
 * older than the victims' directories it records.  Each victim directory
 * the image names is made anew (same owner) once the registry's creation
 * time has passed, and the record is given its new identity. */
static void remake_victim_dirs(const struct image *im, const char *path, int fd)
{
    for (int i = 0; i < nvictims; i++) {
        struct victim *v = &victims[i];
        for (uint32_t k = 0; k < DIRS; k++) {
            if (strcmp(im->d[k].path, v->dir) != 0)
                continue;
            struct stat old;
            cr_assert_eq(stat(v->dir, &old), 0);
            ts_after_birth_of(path, "/tmp");
            cr_assert_eq(rmdir(v->dir), 0, "%s: %s", v->dir, strerror(errno));
            cr_assert_eq(mkdir(v->dir, 0700), 0, "%s: %s", v->dir, strerror(errno));
            cr_assert_eq(chown(v->dir, old.st_uid, old.st_gid), 0);
            cr_assert_eq(stat(v->dir, &v->st), 0);
            uint64_t id2[2] = {(uint64_t)v->st.st_dev, (uint64_t)v->st.st_ino};
            off_t at = (off_t)CR_HEADER_SIZE + (off_t)im->h->entry_capacity * CR_ENTRY_SIZE +
                       (off_t)k * CR_DIR_SIZE + (off_t)offsetof(struct cr_dir, dev);
            cr_assert_eq(pwrite(fd, id2, sizeof id2, at), (ssize_t)sizeof id2);
        }
    }
}

/* Writes the image as the registry of `uid`/`id`: `size` bytes of it, mode
 * `mode`, owned by `owner`.  Returns the path (static buffer rotation). */
static const char *image_write(const struct image *im, size_t size, uint32_t uid, const char *id,
                               mode_t mode, uint32_t owner)
{
    static char bufs[4][128];
    static int next;
    char *path = bufs[next++ % 4];
    cr_assert_eq(registry_path(path, 128, uid, id), 0);
    unlink(path); /* a crashed earlier run's */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    track(path);
    cr_assert_eq(fchmod(fd, mode), 0);
    if (owner != (uint32_t)getuid())
        cr_assert_eq(fchown(fd, owner, (gid_t)-1), 0, "%s", strerror(errno));
    cr_assert_eq(write(fd, im->buf, size), (ssize_t)size);
    if (size == sizeof im->buf && im->h->entry_capacity == ENTRIES && im->h->dir_capacity == DIRS)
        remake_victim_dirs(im, path, fd);
    close(fd);
    return path;
}

static int one_line(const char *out)
{
    const char *nl = strchr(out, '\n');
    return out[0] && nl && nl[1] == '\0';
}

/* `chromereaper CMD --session id [--uid uid]` (reap: with no grace, so a
 * reap that went ahead would kill the bystander at once). */
static int cli(const char *cmd, const char *id, uint32_t uid, char **out)
{
    char num[16];
    snprintf(num, sizeof num, "%u", uid);
    char *argv[10] = {(char *)ts_build("chromereaper"), (char *)cmd, "--session", (char *)id, "--uid", num};
    int n = 6;
    if (strcmp(cmd, "reap") == 0) {
        argv[n++] = "--grace";
        argv[n++] = "0";
    }
    argv[n] = NULL;
    return ts_run(argv, out);
}

static void expect_untouched(const struct victim *v)
{
    struct stat st;
    cr_assert(ts_alive(v->pid), "the bystander %d recorded in the registry was killed", (int)v->pid);
    cr_assert_eq(stat(v->dir, &st), 0, "%s recorded in the registry was removed", v->dir);
}

/* reap and ls both refuse the session: exit 3, one line that names the
 * session and contains `problem`; the victim is untouched. */
static void expect_refused(const char *id, uint32_t uid, const char *problem, const struct victim *v)
{
    static const char *const cmds[] = {"reap", "ls"};
    for (size_t i = 0; i < 2; i++) {
        char *out = NULL;
        int rc = cli(cmds[i], id, uid, &out);
        cr_expect_eq(rc, 3, "%s exited %d: %s", cmds[i], rc, out);
        cr_expect(one_line(out), "%s: not exactly one line: [%s]", cmds[i], out);
        cr_expect(strstr(out, id) != NULL, "%s: the session is not named: %s", cmds[i], out);
        cr_expect(strstr(out, problem) != NULL, "%s: \"%s\" not in: %s", cmds[i], problem, out);
        free(out);
        expect_untouched(v);
    }
}

/* The common case: our uid, a mutation of the valid image, written whole. */
typedef void (*mutation)(struct image *im);

static void hostile(mutation mutate, const char *problem)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    mutate(&im);
    image_write(&im, sizeof im.buf, uid, id, 0600, uid);
    expect_refused(id, uid, problem, v);
}

/* ------------------------------------------------------------ controls */

Test(hostile, control_the_intact_registry_is_reaped)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    image_write(&im, sizeof im.buf, uid, id, 0600, uid);
    char *out = NULL;
    int rc = cli("ls", id, uid, &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    rc = cli("reap", id, uid, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(ts_wait_gone(v->pid, 10), 0, "the recorded browser was not reaped: %s", out);
    struct stat st;
    cr_assert_neq(stat(v->dir, &st), 0, "the recorded directory was not removed: %s", out);
    free(out);
}

/* Slots a killed writer left reserved, or freed ones, hold garbage that
 * nobody published; a counter far past the capacity is a recycled table.
 * Neither is corruption. */
Test(hostile, control_reserved_and_freed_slots_and_a_recycled_counter_are_not_corruption)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    /* the two records renumbered as appends 1000 and 1001 of a table of 4 */
    for (uint32_t i = 0; i < 2; i++) {
        im.e[i].seq = 1000 + i;
        im.e[i].state = CR_SLOT_WORD(CR_SLOT_COMMITTED, 1000 + i);
    }
    im.h->entry_next = 1003;
    im.h->entry_overflow = 7;
    memset(&im.e[2], 0xff, sizeof im.e[2]);
    im.e[2].state = CR_SLOT_RESERVED;
    memset(&im.e[3], 0xff, sizeof im.e[3]);
    im.e[3].state = CR_SLOT_EMPTY;
    memset(&im.d[1], 0xee, sizeof im.d[1]);
    im.d[1].state = CR_SLOT_RESERVED;
    im.h->dir_next = 2;
    image_write(&im, sizeof im.buf, uid, id, 0600, uid);
    char *out = NULL;
    int rc = cli("reap", id, uid, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(ts_wait_gone(v->pid, 10), 0, "%s", out);
    struct stat st;
    cr_assert_neq(stat(v->dir, &st), 0, "%s", out);
    free(out);
}

/* ------------------------------------------------- the file and header */

static void do_truncate(size_t size, const char *problem)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    image_write(&im, size, uid, id, 0600, uid);
    expect_refused(id, uid, problem, v);
}

Test(hostile, truncated_inside_the_header) { do_truncate(100, "truncated"); }
Test(hostile, truncated_inside_the_tables)
{
    do_truncate(sizeof ((struct image *)0)->buf - CR_DIR_SIZE, "file size does not match");
}
Test(hostile, empty_file) { do_truncate(0, "truncated"); }

static void bad_magic(struct image *im) { memcpy(im->h->magic, "CRREAPX", 8); }
Test(hostile, wrong_magic) { hostile(bad_magic, "bad magic"); }

static void other_version(struct image *im) { im->h->version = CR_REGISTRY_VERSION + 1; }
Test(hostile, other_version) { hostile(other_version, "layout version 4 not supported (this build reads 3)"); }

static void capacity_past_file(struct image *im) { im->h->entry_capacity = ENTRIES + 1; }
Test(hostile, capacity_larger_than_the_file) { hostile(capacity_past_file, "does not match its capacity"); }

static void dir_capacity_huge(struct image *im) { im->h->dir_capacity = UINT32_MAX; }
Test(hostile, dir_capacity_absurd) { hostile(dir_capacity_huge, "implausible capacity"); }

static void record_size(struct image *im) { im->h->entry_size = CR_ENTRY_SIZE + 8; }
Test(hostile, record_size_of_another_layout) { hostile(record_size, "record sizes"); }

static void session_unterminated(struct image *im) { memset(im->h->session, 'x', sizeof im->h->session); }
Test(hostile, session_name_not_terminated) { hostile(session_unterminated, "session name is not valid"); }

static void other_session(struct image *im)
{
    memset(im->h->session, 0, sizeof im->h->session);
    cr_strlcpy(im->h->session, "crtest-hostile-someone-else", sizeof im->h->session);
}
Test(hostile, header_names_another_session) { hostile(other_session, "names session \"crtest-hostile-someone-else\""); }

static void negative_root(struct image *im) { im->h->root_pid = -7; }
Test(hostile, negative_root_pid) { hostile(negative_root, "negative root pid"); }

static void header_owner(struct image *im) { im->h->owner_uid = 65534; }
Test(hostile, header_names_another_owner) { hostile(header_owner, "another owner"); }

/* ---------------------------------------------------------- counters */

static void seq_past_counter(struct image *im)
{
    im->e[1].seq = 7;
    im->e[1].state = CR_SLOT_WORD(CR_SLOT_COMMITTED, 7);
}
Test(hostile, entry_sequence_past_the_counter)
{
    hostile(seq_past_counter, "corrupt registry: entry 1 has sequence number 7, but only 2 were ever appended");
}

static void dir_seq_past_counter(struct image *im)
{
    im->d[0].seq = 1;
    im->d[0].state = CR_SLOT_WORD(CR_SLOT_COMMITTED, 1);
}
Test(hostile, dir_sequence_past_the_counter)
{
    hostile(dir_seq_past_counter, "directory 0 has sequence number 1, but only 1 were ever appended");
}

static void overflow_absurd(struct image *im) { im->h->entry_overflow = UINT32_MAX; }
Test(hostile, more_refused_appends_than_appends)
{
    hostile(overflow_absurd, "corrupt registry: 4294967295 appends refused, but only 2");
}

static void dir_overflow_absurd(struct image *im) { im->h->dir_overflow = 0xfffffff0u; }
Test(hostile, more_refused_directory_appends_than_appends)
{
    hostile(dir_overflow_absurd, "directory appends refused");
}

static void seq_mismatch(struct image *im) { im->e[1].state = CR_SLOT_WORD(CR_SLOT_COMMITTED, 0); }
Test(hostile, sequence_field_not_the_state_words)
{
    hostile(seq_mismatch, "entry 1: its sequence number 1 is not the one its state word names");
}

static void seq_duplicate(struct image *im)
{
    im->e[2] = im->e[1];
    im->h->entry_next = 3;
}
Test(hostile, two_entries_with_one_sequence_number)
{
    hostile(seq_duplicate, "entries 1 and 2 have the same sequence number 1");
}

/* ----------------------------------------------------------- entries */

static void second_entry(struct image *im, int32_t pid, int32_t ppid, uint32_t seen, uint32_t role)
{
    im->e[2] = im->e[1];
    im->e[2].seq = 2;
    im->e[2].state = CR_SLOT_WORD(CR_SLOT_COMMITTED, 2);
    im->e[2].pid = pid;
    im->e[2].ppid = ppid;
    im->e[2].seen_by = seen;
    im->e[2].role = role;
    im->h->entry_next = 3;
}

static void pid_zero(struct image *im) { second_entry(im, 0, 1, CR_SEEN_FORK, CR_ROLE_RENDERER); }
Test(hostile, entry_pid_zero) { hostile(pid_zero, "corrupt registry: entry 2 has pid 0"); }

static void pid_negative(struct image *im) { second_entry(im, -5, 1, CR_SEEN_FORK, CR_ROLE_RENDERER); }
Test(hostile, entry_pid_negative) { hostile(pid_negative, "entry 2 has pid -5"); }

static void pid_huge(struct image *im) { second_entry(im, INT32_MAX, 1, CR_SEEN_FORK, CR_ROLE_RENDERER); }
Test(hostile, entry_pid_past_pid_max) { hostile(pid_huge, "entry 2 has pid 2147483647"); }

static void ppid_negative(struct image *im) { second_entry(im, 4242, -1, CR_SEEN_FORK, CR_ROLE_RENDERER); }
Test(hostile, entry_ppid_negative) { hostile(ppid_negative, "entry 2 has parent pid -1"); }

static void seen_unknown(struct image *im) { second_entry(im, 4242, 1, CR_SEEN_MAX + 1, CR_ROLE_RENDERER); }
Test(hostile, entry_seen_by_unknown) { hostile(seen_unknown, "entry 2 has an unknown seen-by value 7"); }

static void seen_zero(struct image *im) { second_entry(im, 4242, 1, 0, CR_ROLE_RENDERER); }
Test(hostile, entry_seen_by_zero) { hostile(seen_zero, "entry 2 has an unknown seen-by value 0"); }

static void role_unknown(struct image *im) { second_entry(im, 4242, 1, CR_SEEN_FORK, 0x1000); }
Test(hostile, entry_role_unknown) { hostile(role_unknown, "entry 2 has an unknown role 4096"); }

static void reaped_pid_zero(struct image *im)
{
    second_entry(im, 0, 1, CR_SEEN_FORK, CR_ROLE_RENDERER);
    im->e[2].state = CR_SLOT_WORD(CR_SLOT_REAPED, 2);
}
Test(hostile, reaped_entry_with_pid_zero) { hostile(reaped_pid_zero, "entry 2 has pid 0"); }

static void exe_unterminated(struct image *im) { memset(im->e[1].exe, 'A', sizeof im->e[1].exe); }
Test(hostile, entry_exe_not_terminated) { hostile(exe_unterminated, "entry 1: its exe is not NUL-terminated"); }

/* ------------------------------------------------------- directories */

static void second_dir(struct image *im)
{
    im->d[1] = im->d[0];
    im->d[1].seq = 1;
    im->d[1].state = CR_SLOT_WORD(CR_SLOT_COMMITTED, 1);
    im->h->dir_next = 2;
}

static void dir_pid_zero(struct image *im)
{
    second_dir(im);
    im->d[1].pid = 0;
}
Test(hostile, dir_pid_zero) { hostile(dir_pid_zero, "corrupt registry: directory 1 has pid 0"); }

static void dir_origin(struct image *im)
{
    second_dir(im);
    im->d[1].origin = 9;
}
Test(hostile, dir_origin_unknown) { hostile(dir_origin, "directory 1 has an unknown origin 9"); }

static void dir_unterminated(struct image *im)
{
    second_dir(im);
    memset(im->d[1].path, '/', sizeof im->d[1].path);
}
Test(hostile, dir_path_not_terminated) { hostile(dir_unterminated, "directory 1: its path is not NUL-terminated"); }

static void dir_relative(struct image *im)
{
    second_dir(im);
    cr_strlcpy(im->d[1].path, "tmp/relative", sizeof im->d[1].path);
}
Test(hostile, dir_path_relative) { hostile(dir_relative, "directory 1: its path is not absolute"); }

/* ------------------------------------------------------- the file itself */

Test(hostile, owned_by_another_uid)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to give the file away");
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    image_write(&im, sizeof im.buf, uid, id, 0600, 65534);
    expect_refused(id, uid, "belongs to another uid (65534, not 0)", v);
}

Test(hostile, mode_0644)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    image_write(&im, sizeof im.buf, uid, id, 0644, uid);
    expect_refused(id, uid, "mode is 0644, not 0600", v);
}

/* A symlink named like a registry, to a valid registry of another session
 * (which records the victim): refused, and the target is left alone. */
Test(hostile, symlink_in_dev_shm)
{
    char id[64], target_id[64], link[128];
    new_session(id, sizeof id);
    new_session(target_id, sizeof target_id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, target_id);
    struct image im;
    image_make(&im, uid, target_id, v);
    const char *target = image_write(&im, sizeof im.buf, uid, target_id, 0600, uid);
    cr_assert_eq(registry_path(link, sizeof link, uid, id), 0);
    unlink(link);
    cr_assert_eq(symlink(target, link), 0, "%s", strerror(errno));
    track(link);
    expect_refused(id, uid, "symlink", v);
    struct stat st;
    cr_assert_eq(lstat(target, &st), 0, "the symlink's target was removed");
}

/* The image's records in a registry of larger capacities, written sparse:
 * header and entries at the start, the directory table where the entry
 * capacity puts it, holes everywhere else. */
static void write_sparse(struct image *im, uint32_t uid, const char *id, uint32_t entries, uint32_t dirs)
{
    im->h->entry_capacity = entries;
    im->h->dir_capacity = dirs;
    char path[128];
    cr_assert_eq(registry_path(path, sizeof path, uid, id), 0);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    track(path);
    cr_assert_eq(fchmod(fd, 0600), 0);
    size_t head = CR_HEADER_SIZE + ENTRIES * CR_ENTRY_SIZE;
    cr_assert_eq(pwrite(fd, im->buf, head, 0), (ssize_t)head);
    off_t dir_off = (off_t)CR_HEADER_SIZE + (off_t)entries * CR_ENTRY_SIZE;
    cr_assert_eq(pwrite(fd, im->d, DIRS * CR_DIR_SIZE, dir_off), (ssize_t)(DIRS * CR_DIR_SIZE));
    cr_assert_eq(ftruncate(fd, (off_t)registry_size_for(entries, dirs)), 0);
    remake_victim_dirs(im, path, fd);
    close(fd);
}

/* The registry file has no more than a megabyte allocated: nobody read its holes. */
static void expect_holes_not_read(uint32_t uid, const char *id)
{
    struct stat st;
    char path[128];
    cr_assert_eq(registry_path(path, sizeof path, uid, id), 0);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_lt((uint64_t)st.st_blocks * 512, 1u << 20, "reading it allocated its holes");
}

/* A few kilobytes on disk claiming the largest tables: reading its holes
 * would allocate 4 GB of /dev/shm (or die of SIGBUS when that is full). */
Test(hostile, sparse_file_claiming_the_largest_capacities)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    im.h->entry_next = CR_ENTRY_CAPACITY_MAX; /* every slot "in use" */
    write_sparse(&im, uid, id, CR_ENTRY_CAPACITY_MAX, CR_DIR_CAPACITY_MAX);
    expect_refused(id, uid, "sparse file: 4328521984 bytes, only", v);
    expect_holes_not_read(uid, id);
}

/* A registry of layout 2 (5,376 KiB at its default capacities, more than
 * ours), sparse as builds that did not allocate theirs left them: refused
 * as another version, as any other layout is, and its holes not read. */
Test(hostile, sparse_registry_of_an_older_layout_is_refused_as_a_version)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct cr_registry_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CR_REGISTRY_MAGIC, sizeof h.magic);
    h.version = 2;
    h.header_size = 256;
    h.entry_size = 544;
    h.entry_capacity = 8192;
    h.dir_size = 4096;
    h.dir_capacity = 256;
    h.owner_uid = uid;
    cr_strlcpy(h.session, id, sizeof h.session);
    char path[128];
    cr_assert_eq(registry_path(path, sizeof path, uid, id), 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    track(path);
    cr_assert_eq(fchmod(fd, 0600), 0);
    cr_assert_eq(pwrite(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    cr_assert_eq(ftruncate(fd, 5505280), 0);
    close(fd);
    expect_refused(id, uid, "registry layout version 2 not supported (this build reads 3)", v);
    expect_holes_not_read(uid, id);
}

/* Registries of builds that did not allocate them are sparse too, at the
 * default capacities: those are read (and reaped) as before. */
Test(hostile, control_a_sparse_registry_of_default_capacities_is_reaped)
{
    char id[64];
    new_session(id, sizeof id);
    uint32_t uid = (uint32_t)getuid();
    struct victim *v = new_victim(uid, id);
    struct image im;
    image_make(&im, uid, id, v);
    write_sparse(&im, uid, id, CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT);
    char *out = NULL;
    int rc = cli("reap", id, uid, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(ts_wait_gone(v->pid, 10), 0, "%s", out);
    struct stat st;
    cr_assert_neq(stat(v->dir, &st), 0, "%s", out);
    free(out);
}

/* ----------------------------------------------- --stale and --all */

/* Two sessions of a uid of their own (so that no other test's sessions are
 * in the sweep): one intact, one recording a pid 0.  The sweep reaps the
 * first, reports the second, exits 3. */
static void sweep(const char *mode)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to run the sessions as a uid of their own");
    uint32_t uid = 3000000000u + (uint32_t)getpid();
    char good_id[64], bad_id[64];
    new_session(good_id, sizeof good_id);
    new_session(bad_id, sizeof bad_id);
    struct victim *good = new_victim(uid, good_id), *bad = new_victim(uid, bad_id);
    struct image im;
    image_make(&im, uid, good_id, good);
    image_write(&im, sizeof im.buf, uid, good_id, 0600, uid);
    image_make(&im, uid, bad_id, bad);
    pid_zero(&im);
    image_write(&im, sizeof im.buf, uid, bad_id, 0600, uid);

    char num[16];
    snprintf(num, sizeof num, "%u", uid);
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", (char *)mode, "--uid", num, "--grace", "0", NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    char line[200];
    snprintf(line, sizeof line, "chromereaper: session %s: corrupt registry: entry 2 has pid 0\n", bad_id);
    cr_expect(strstr(out, line) != NULL, "no \"%s\" in: %s", line, out);
    expect_untouched(bad);
    cr_expect_eq(ts_wait_gone(good->pid, 10), 0, "the intact session was not reaped: %s", out);
    struct stat st;
    cr_expect_neq(stat(good->dir, &st), 0, "the intact session's directory was kept: %s", out);
    free(out);
}

Test(hostile, reap_stale_reaps_the_good_session_and_reports_the_hostile_one) { sweep("--stale"); }
Test(hostile, reap_all_reaps_the_good_session_and_reports_the_hostile_one) { sweep("--all"); }
