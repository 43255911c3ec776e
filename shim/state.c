/* The shim's process-wide state and its constructor: find or create the
 * session, map its registry, register this image, and resolve the real libc
 * functions before any wrapper can run. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "procfs.h"
#include "rawsys.h"
#include "registry.h"
#include "safestr.h"
#include "shim.h"

struct shim_real shim_real;

/* The session's registry: its file's facts (size, capacities, identity)
 * from the constructor, and `mapped`, its mapping, made on first use
 * (registry_get): hdr, entries and dirs here stay NULL. */
static struct cr_registry registry;
static struct cr_registry_header *mapped; /* atomic */
static int active;
/* The registry file as mapped: any process of the uid can truncate it,
 * and a store past its end would be SIGBUS in the host. */
static char registry_file[128];
static struct stat registry_id;
static size_t page_bytes;
static enum cr_role own_role = CR_ROLE_UNKNOWN;
static int log_level = 1;

/* Built once here, read-only afterwards, so vfork children may use them
 * (shim_preload_entry is in shim/preload_entry.c). */
char shim_session_entry[CR_SESSION_MAX + 32]; /* "CHROMEREAPER_SESSION=<id>" */

int shim_active(void) { return active; }
enum cr_role shim_role(void) { return own_role; }

void shim_log(int level, const char *a, const char *b)
{
    if (level > log_level)
        return;
    char line[1024] = "chromereaper: ";
    cr_strlcat(line, a, sizeof line);
    if (b)
        cr_strlcat(line, b, sizeof line);
    cr_strlcat(line, "\n", sizeof line);
    int saved = errno;
    ssize_t rc = write(2, line, strnlen(line, sizeof line));
    (void)rc;
    shim_errno_restore(saved);
}

static int parse_log_level(const char *s)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return 1;
}

/* A zygote's child that dropped the registry (shim_forked_by_zygote). */
static int detached;

/* A zygote's read-only mapping of the registry's first page, which what
 * it forks keeps when it drops the writable one: the kernel-visible tie
 * of a renderer to its session once its zygote and browser are dead (its
 * parent is then init, its environment overwritten).  Mapped from a
 * read-only descriptor, so it cannot be made writable again. */
static void *zygote_mark;

static void map_zygote_mark(void)
{
    int fd = open(registry_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    long page = sysconf(_SC_PAGESIZE);
    if (fstat(fd, &st) == 0 && st.st_dev == registry_id.st_dev && st.st_ino == registry_id.st_ino &&
        page > 0 && st.st_size >= page) {
        void *m = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED)
            zygote_mark = m;
    }
    close(fd);
}

void shim_forked_by_zygote(int parent_was_ns_init)
{
    /* Chrome's zygote, as PID 1 of its namespace, forks once to become
     * an init that reaps: that child is the zygote proper, and records */
    if (!active || own_role != CR_ROLE_ZYGOTE || parent_was_ns_init)
        return;
    active = 0;
    detached = 1;
    /* zygote_mark stays: it ties this process to the session */
    struct cr_registry_header *h = __atomic_exchange_n(&mapped, NULL, __ATOMIC_ACQ_REL);
    if (h)
        munmap(h, registry.map_size);
}

enum cr_role shim_classify(const char *exe, const char *const *argv)
{
    /* the Go/Rust/runc re-exec: /proc/self/exe is this very image */
    char self[CR_EXE_MAX];
    if (exe && strcmp(exe, "/proc/self/exe") == 0) {
        int saved = errno;
        if (proc_exe_read(0, self, sizeof self) == 0)
            exe = self;
        shim_errno_restore(saved);
    }
    return role_classify(exe, argv);
}

/* The page of the mapping that holds the file's last byte: while the
 * file still has that page, it has every page we map. */
static const char *last_page(const struct cr_registry *reg)
{
    return (const char *)reg->hdr + (reg->map_size - 1) / page_bytes * page_bytes;
}

/* Is that page still in the file?  mincore(2) reports it resident when our
 * page table maps it or the file's page cache holds it, and truncation
 * takes it out of both; a page swapped out reads as absent, and then the
 * slower check below decides.  No path walk, no descriptor, and it is the
 * mapped file itself that is asked, under whatever name. */
static int last_page_resident(const struct cr_registry *reg)
{
    unsigned char v = 0;
    return shim_mincore((void *)last_page(reg), page_bytes, &v) == 0 && (v & 1);
}

/* Tracking stops for good, with one warning: the registry changed under
 * us.  The mapping, if any, is swapped for anonymous memory in place (a
 * thread appending right now writes there harmlessly).  In a vfork child
 * this is the parent's memory too, which is right: the parent's registry
 * changed as well. */
static void registry_lost(const char *why)
{
    static int warned;
    int saved = errno;
    if (__atomic_exchange_n(&active, 0, __ATOMIC_ACQ_REL)) {
        struct cr_registry_header *h = __atomic_load_n(&mapped, __ATOMIC_ACQUIRE);
        if (h)
            mmap(h, registry.map_size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            shim_log(1, why, NULL);
    }
    shim_errno_restore(saved);
}

/* The registry mapped, in *v; mapped here on first use.  A program its
 * exec wrapper recorded may never append (most never fork), and a
 * mapping costs it an mmap, page faults and an munmap at exit.  The fork
 * wrappers map it before the fork, so that children inherit it; a
 * browser's processes map it at once (its sandbox may later close the
 * path: a zygote chroots to an empty directory).  Threads
 * racing here each map it, and all but one unmap theirs.  0 when the file
 * is not the one the constructor checked any more: not tracking. */
static int registry_get(struct cr_registry *v)
{
    struct cr_registry_header *h = __atomic_load_n(&mapped, __ATOMIC_ACQUIRE);
    if (!h) {
        struct cr_registry r;
        int saved = errno;
        const char *session = shim_session_entry + sizeof "CHROMEREAPER_SESSION=" - 1;
        int ok = registry_open(&r, (uint32_t)shim_getuid(), session, 1, NULL, 0) == CR_REG_OK;
        shim_errno_restore(saved);
        if (ok && (r.file_dev != registry.file_dev || r.file_ino != registry.file_ino ||
                   r.map_size != registry.map_size || r.entry_capacity != registry.entry_capacity ||
                   r.dir_capacity != registry.dir_capacity)) {
            registry_close(&r);
            ok = 0;
        }
        if (!ok) {
            registry_lost("the session's registry cannot be opened any more, not tracking");
            return 0;
        }
        h = r.hdr;
        struct cr_registry_header *none = NULL;
        if (!__atomic_compare_exchange_n(&mapped, &none, h, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            registry_close(&r);
            h = none;
        }
    }
    registry_bind(v, h, registry.map_size, registry.entry_capacity, registry.dir_capacity);
    v->file_dev = registry.file_dev;
    v->file_ino = registry.file_ino;
    return 1;
}

void shim_prepare_children(void)
{
    struct cr_registry v;
    if (__atomic_load_n(&active, __ATOMIC_ACQUIRE))
        (void)registry_get(&v);
}

/* Is the file still the one we mapped, at least as long?  Checked before
 * each append (a syscall; a truncation in the moment between the check
 * and the store is not caught): mincore on the last page, and when that
 * page is not resident, a stat of the path (the file's identity and
 * size), after which the page is read once so that the next check finds
 * it resident. */
static int registry_intact(const struct cr_registry *reg)
{
    if (last_page_resident(reg))
        return 1;
    struct stat st;
    int saved = errno;
    int same = stat(registry_file, &st) == 0 && st.st_dev == registry_id.st_dev &&
               st.st_ino == registry_id.st_ino && (size_t)st.st_size >= registry.map_size;
    shim_errno_restore(saved);
    if (same) {
        (void)*(const volatile char *)last_page(reg);
        return 1;
    }
    registry_lost("the session's registry was truncated or replaced, not tracking");
    return 0;
}

/* A table that nothing frees filled up (preload mode without its watchdog:
 * the supervisor frees the records of dead processes).  One warning per
 * session, from whichever process was refused first. */
static void warn_full(struct cr_registry *reg)
{
    if (registry_claim_full_warning(reg))
        shim_log(1, "the session's registry is full: later processes and directories are not "
                    "recorded (keep the watchdog, or run the bot under `chromereaper run`)", NULL);
}

/* Built in the registry's slot itself, not on the stack (see
 * registry_entry_reserve), and without touching errno on the usual path:
 * a fork child about to exec pays a page fault for every page it is the
 * first to touch (the slower paths put errno back themselves). */
void shim_record_process(pid_t pid, int seen_by, const char *exe, const char *const *argv,
                         uint64_t before, uint64_t after)
{
    struct cr_registry reg;
    if (!active || !registry_get(&reg) || !registry_intact(&reg))
        return;
    uint64_t seq;
    struct cr_entry *e = registry_entry_reserve(&reg, &seq);
    if (!e) {
        warn_full(&reg);
        return;
    }
    if (pid > 0)
        shim_identity_child(e, pid, before, after);
    else
        shim_identity_self(e);
    e->seen_by = (uint32_t)seen_by;
    enum cr_role role;
    const char *udd = NULL;
    /* the Go/Rust/runc re-exec: the record names the image itself (this
     * record is the new image's only one: its constructor adopts it) */
    if (exe && strcmp(exe, "/proc/self/exe") == 0) {
        int saved = errno;
        if (proc_exe_read(0, e->exe, sizeof e->exe) == 0)
            exe = e->exe;
        shim_errno_restore(saved);
    }
    if (argv) {
        role = shim_classify(exe, argv);
        udd = role_user_data_dir_argv(argv);
    } else {
        role = seen_by == CR_SEEN_FORK ? role_of_fork_child(own_role) : own_role;
    }
    e->role = role;
    if (exe != e->exe)
        cr_strlcpy(e->exe, exe ? exe : "", sizeof e->exe);
    registry_entry_publish(e, seq);
    if (udd && role_is_browser_stack(role))
        shim_record_dir(udd, CR_DIR_USER_DATA_DIR);
}

/* A zygote's child holds no registry; the directories it makes (a utility
 * process's scoped temp dirs) are recorded through a mapping made for the
 * one record and gone right after.  Inside Chrome's sandbox the open
 * fails: nothing to record, nothing to forge. */
static void append_dir_detached(const struct cr_dir_head *d, const char *path)
{
    struct cr_registry reg;
    const char *session = shim_session_entry + sizeof "CHROMEREAPER_SESSION=" - 1;
    if (registry_open(&reg, (uint32_t)shim_getuid(), session, 1, NULL, 0) != CR_REG_OK)
        return;
    if (registry_append_dir_path(&reg, d, path) < 0)
        warn_full(&reg);
    registry_close(&reg);
}

void shim_record_dir(const char *path, unsigned origin)
{
    /* a path too long for the table is not recorded: never delete a guess */
    struct cr_registry reg;
    if ((!active && !detached) || !path || path[0] != '/' || strlen(path) >= CR_DIR_PATH_MAX ||
        (active && (!registry_get(&reg) || !registry_intact(&reg))))
        return;
    int saved = errno;
    struct cr_dir_head d;
    memset(&d, 0, sizeof d);
    struct stat sb;
    struct proc_stat st;
    d.origin = origin;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        d.dev = (uint64_t)sb.st_dev;
        d.ino = (uint64_t)sb.st_ino;
    } else {
        d.flags |= CR_DIR_ABSENT_AT_LAUNCH;
    }
    if (shim_identity_start(&d.pid, &d.start_time) < 0) {
        if (proc_stat_read(0, &st) == 0) {
            d.pid = st.pid;
            d.start_time = st.start_time;
        } else {
            d.pid = getpid();
        }
    }
    if (active) {
        if (registry_append_dir_path(&reg, &d, path) < 0)
            warn_full(&reg);
    } else
        append_dir_detached(&d, path);
    shim_errno_restore(saved);
}

static void *resolve(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f)
        shim_log(0, "cannot resolve libc function ", name);
    return f;
}

static int find_own_path(void)
{
    Dl_info info;
    char path[PATH_MAX];
    if (!dladdr((void *)&shim_record_process, &info) || !info.dli_fname)
        return -1;
    /* an absolute path survives any chdir as it is (the exec wrappers pass
     * one on): resolve only a relative one, a syscall per component saved
     * in every process of the tree */
    const char *own = info.dli_fname;
    if (own[0] != '/') {
        if (!realpath(own, path))
            return -1;
        own = path;
    }
    return shim_preload_entry_set(own);
}

/* Did the parent process already say why it is not tracking?  It did if
 * it loaded this library and holds no registry: it read the same
 * environment we inherited, and warned (or was told not to).  Nothing is
 * put into the environment to say so: the host's environment stays its
 * own. */
static int parent_already_warned(void)
{
    struct stat own;
    const char *lib = shim_preload_entry + sizeof "LD_PRELOAD=" - 1;
    if (!*lib || stat(lib, &own) < 0)
        return 0;
    char path[64], num[24];
    cr_utoa((uint64_t)getppid(), num, sizeof num);
    cr_strlcpy(path, "/proc/", sizeof path);
    cr_strlcat(path, num, sizeof path);
    cr_strlcat(path, "/maps", sizeof path);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int has_library = 0, has_registry = 0;
    while (getline(&line, &cap, f) > 0) {
        unsigned major, minor;
        unsigned long long ino;
        if (sscanf(line, "%*s %*s %*s %x:%x %llu", &major, &minor, &ino) == 3 &&
            ino == (unsigned long long)own.st_ino && major == major(own.st_dev) &&
            minor == minor(own.st_dev))
            has_library = 1;
        if (strstr(line, CR_REGISTRY_DIR "/" CR_REGISTRY_PREFIX))
            has_registry = 1;
    }
    free(line);
    fclose(f);
    return has_library && !has_registry;
}

/* Warn once per process tree: a child whose parent already warned stays
 * quiet, and so does one whose supervisor said it (CHROMEREAPER_WARNED). */
static void disable(const char *why, const char *detail)
{
    active = 0;
    if (!shim_env("CHROMEREAPER_WARNED") && !parent_already_warned())
        shim_log(1, why, detail);
}

/* Opens the session's registry (peeked at, not mapped: see registry_get)
 * or creates one; *peek holds the newest records of an opened one. */
static int open_or_create_session(int *created, struct cr_registry_peek *peek)
{
    const char *session = shim_env("CHROMEREAPER_SESSION");
    char fresh[CR_SESSION_MAX];
    char why[128] = "";
    uint32_t uid = (uint32_t)shim_getuid();
    *created = 0;
    if (session && *session) {
        enum cr_registry_status st = registry_peek(uid, session, peek, why, sizeof why);
        if (st != CR_REG_OK) {
            disable("registry unusable, not tracking: ", why);
            return -1;
        }
        registry.map_size = peek->size;
        registry.entry_capacity = peek->entry_capacity;
        registry.dir_capacity = peek->dir_capacity;
        registry.file_dev = peek->file_dev;
        registry.file_ino = peek->file_ino;
    } else {
        /* the root of a new session: no reaper started us */
        if (session_id_generate(fresh, sizeof fresh) < 0 ||
            registry_create(&registry, fresh, CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT) !=
                CR_REG_OK) {
            disable("cannot create a registry in " CR_REGISTRY_DIR ", not tracking: ", strerror(errno));
            return -1;
        }
        /* not put into our own environment: the exec, spawn, system and
         * popen wrappers hand it to the children */
        session = fresh;
        *created = 1;
        mapped = registry.hdr;
        registry.hdr = NULL;
        registry.entries = NULL;
        registry.dirs = NULL;
    }
    cr_strlcpy(shim_session_entry, "CHROMEREAPER_SESSION=", sizeof shim_session_entry);
    cr_strlcat(shim_session_entry, session, sizeof shim_session_entry);
    /* the identity registry_intact checks: the mapped file's, as
     * registry_open saw it; a registry just created is stat'ed */
    registry_id.st_dev = (dev_t)registry.file_dev;
    registry_id.st_ino = (ino_t)registry.file_ino;
    unsigned long page = getauxval(AT_PAGESZ);
    page_bytes = page ? page : 4096;
    if (registry_path(registry_file, sizeof registry_file, uid, session) < 0 ||
        (!registry.file_ino && stat(registry_file, &registry_id) < 0)) {
        if (mapped)
            munmap(mapped, registry.map_size);
        mapped = NULL;
        disable("registry unusable, not tracking: ", "it vanished as it was opened");
        return -1;
    }
    registry.file_dev = (uint64_t)registry_id.st_dev;
    registry.file_ino = (uint64_t)registry_id.st_ino;
    return 0;
}

/* The version of `name` the loader binds for new programs, where libc has
 * several (x86_64 posix_spawn: GLIBC_2.15 and the older GLIBC_2.2.5). */
static void *resolve_version(const char *name, const char *version)
{
    void *f = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
    return f ? f : resolve(name);
}

#if defined(__x86_64__)
#define SPAWN_VERSION "GLIBC_2.15"
#define SPAWN_COMPAT_VERSION "GLIBC_2.2.5"
#else
#define SPAWN_VERSION NULL
#define SPAWN_COMPAT_VERSION NULL
#endif

/* What a fork or vfork child may call (the exec family, fork, clone) is
 * resolved by the constructor: dlsym takes the loader's lock, which a
 * multithreaded fork can leave held in the child.  The rest (posix_spawn,
 * mkdtemp, system, popen: none async-signal-safe, so no such child may
 * call them) on first use: most programs never call them, and a dlsym is
 * ~1,000 instructions in every program that loads the library. */
static void resolve_for_children(void)
{
    if (!shim_real.fork)
        shim_real.fork = resolve("fork");
    if (!shim_real.execve)
        shim_real.execve = resolve("execve");
    if (!shim_real.execvpe)
        shim_real.execvpe = resolve("execvpe");
    if (!shim_real.clone)
        shim_real.clone = resolve("clone");
    if (!shim_real.execveat)
        shim_real.execveat = dlsym(RTLD_NEXT, "execveat"); /* glibc 2.34 */
    if (!shim_real.fexecve)
        shim_real.fexecve = resolve("fexecve");
}

void shim_resolve_real(void)
{
    int saved = errno;
    resolve_for_children();
    if (!shim_real.posix_spawn)
        shim_real.posix_spawn = resolve_version("posix_spawn", SPAWN_VERSION);
    if (!shim_real.posix_spawnp)
        shim_real.posix_spawnp = resolve_version("posix_spawnp", SPAWN_VERSION);
    if (!shim_real.mkdtemp)
        shim_real.mkdtemp = resolve("mkdtemp");
    if (!shim_real.posix_spawn_compat)
        shim_real.posix_spawn_compat = resolve_version("posix_spawn", SPAWN_COMPAT_VERSION);
    if (!shim_real.posix_spawnp_compat)
        shim_real.posix_spawnp_compat = resolve_version("posix_spawnp", SPAWN_COMPAT_VERSION);
    if (!shim_real.system)
        shim_real.system = resolve("system");
    if (!shim_real.popen)
        shim_real.popen = resolve("popen");
    shim_errno_restore(saved);
}

/* Does LD_PRELOAD name this library (the same file, under any name)?  A
 * bare name (no slash) is looked up by the loader: it names us when it is
 * our file name. */
static int preload_names_us(void)
{
    const char *value = shim_env("LD_PRELOAD");
    const char *own = shim_preload_entry + sizeof "LD_PRELOAD=" - 1;
    struct stat us, st;
    if (!value || stat(own, &us) < 0)
        return 0;
    char name[PATH_MAX];
    while (*value) {
        size_t n = strcspn(value, " :");
        if (n > 0 && n < sizeof name) {
            memcpy(name, value, n);
            name[n] = '\0';
            if (strchr(name, '/') ? stat(name, &st) == 0 && st.st_dev == us.st_dev && st.st_ino == us.st_ino
                                  : strcmp(name, cr_basename(own)) == 0)
                return 1;
        }
        value += n;
        value += strspn(value, " :");
    }
    return 0;
}

/* Loaded without being asked: in secure execution (the environment is the
 * less privileged caller's, so nothing in it counts), or system-wide
 * (/etc/ld.so.preload) in a process that is in no session and whose
 * LD_PRELOAD does not name us: every program, the watchdog included, would
 * otherwise become the root of a session of its own. */
static int stays_passive(void)
{
    if (shim_secure())
        return 1;
    const char *session = shim_env("CHROMEREAPER_SESSION");
    return !(session && *session) && !preload_names_us();
}

/* Was this image recorded already, by the exec wrapper of the image this
 * process ran a moment ago?  Then that record stands for it: its identity
 * and role become ours, and nothing is read from /proc nor appended (one
 * record per exec).  It is looked for among the last few appends, by pid,
 * parent and program name (the kernel's AT_EXECFN is the path the exec
 * was given).  A wrong match takes another process that had our pid, the
 * same parent and the same program name and exec'd within the last few
 * appends: a pid reused that fast.  Even then nothing wrong can be killed:
 * that record holds the other process's start time, and the reaper acts on
 * a record only when /proc shows a live process with its pid and start
 * time; at worst this image goes unrecorded.  Not in a nested PID
 * namespace (the record's pid would not be getpid()'s). */
static int recorded_by_exec(const struct cr_registry_peek *peek)
{
    struct cr_entry e, failed;
    pid_t me = shim_getpid(), parent = shim_getppid();
    if (me == 1 || parent == 0 || !registry_peek_find(peek, CR_PEEK_MAX, me, CR_SEEN_EXEC, &e) ||
        e.ppid != parent || (e.flags & CR_ENTRY_PIDNS) || !e.start_time)
        return 0;
    /* that exec failed, and this image came another way (a raw execve):
     * looked for only among the appends after it (usually none) */
    uint64_t after = peek->entry_next - e.seq - 1;
    if (after && registry_peek_find(peek, (uint32_t)after, me, CR_SEEN_EXEC_FAILED, &failed))
        return 0;
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    if (!execfn || strcmp(cr_basename(execfn), cr_basename(e.exe)) != 0)
        return 0;
    shim_identity_adopt(&e);
    own_role = (enum cr_role)e.role;
    return 1;
}

/* An image no exec wrapper recorded (the session's root; a program a
 * static launcher or a raw execve started with LD_PRELOAD): it records
 * itself, its role taken from its own arguments (glibc passes argc, argv
 * and envp to constructors), its executable from /proc. */
static void record_image(int created, int argc, char **argv)
{
    char exe[PATH_MAX]; /* whole, for the role: the record keeps what fits */
    char cmdline[8192];
    size_t len = 0;
    const char *udd = NULL;
    shim_identity_init();
    proc_exe_read(0, exe, sizeof exe);
#if defined(__GLIBC__)
    if (argc > 0 && argv && argv[0]) {
        own_role = role_classify(exe, (const char *const *)argv);
        udd = role_user_data_dir_argv((const char *const *)argv);
    } else
#endif
    if (proc_file_read(0, "cmdline", cmdline, sizeof cmdline, &len) == 0) {
        own_role = role_classify_cmdline(exe, cmdline, len);
        udd = role_user_data_dir_cmdline(cmdline, len);
    }
    shim_record_process(0, created ? CR_SEEN_ROOT : CR_SEEN_CONSTRUCTOR, exe, NULL, 0, 0);
    if (created) {
        pid_t pid;
        uint64_t start;
        struct cr_registry reg;
        if (shim_identity_start(&pid, &start) == 0 && registry_get(&reg))
            registry_set_root(&reg, getpid(), start);
        shim_start_watchdog(shim_session_entry + sizeof "CHROMEREAPER_SESSION=" - 1);
    }
    if (udd && role_is_browser_stack(own_role))
        shim_record_dir(udd, CR_DIR_USER_DATA_DIR);
}

__attribute__((constructor)) static void shim_init(int argc, char **argv)
{
    int saved = errno;
    shim_config_init();
    log_level = parse_log_level(shim_env("CHROMEREAPER_LOG"));
    resolve_for_children();
    int created;
    struct cr_registry_peek peek;
    if (!shim_real.fork || !shim_real.execve || !shim_real.execvpe) {
        disable("libc functions missing, not tracking", NULL);
    } else if (find_own_path() < 0) {
        disable("cannot find the library's own path, not tracking", NULL);
    } else if (stays_passive()) {
        active = 0;
    } else if (open_or_create_session(&created, &peek) == 0) {
        active = 1;
        struct cr_registry v;
        if (created || !recorded_by_exec(&peek))
            record_image(created, argc, argv);
        else if (role_is_browser_stack(own_role))
            (void)registry_get(&v);
        if (own_role == CR_ROLE_ZYGOTE)
            map_zygote_mark();
    }
    shim_errno_restore(saved);
}
