#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "safestr.h"

int proc_path(char *buf, size_t cap, pid_t pid, const char *name)
{
    char num[24];
    size_t nlen = pid > 0 ? cr_utoa((uint64_t)pid, num, sizeof num) : cr_strlcpy(num, "self", sizeof num);
    size_t namelen = strlen(name);
    /* "/proc/" num "/" name: built with copies, it runs for every /proc read */
    if (sizeof "/proc/" + nlen + 1 + namelen > cap) {
        /* what fits, terminated */
        if (cap) {
            buf[0] = '\0';
            cr_strlcat(buf, "/proc/", cap);
            cr_strlcat(buf, num, cap);
            cr_strlcat(buf, "/", cap);
            cr_strlcat(buf, name, cap);
        }
        return -1;
    }
    memcpy(buf, "/proc/", 6);
    memcpy(buf + 6, num, nlen);
    buf[6 + nlen] = '/';
    memcpy(buf + 7 + nlen, name, namelen + 1);
    return 0;
}

int proc_file_read(pid_t pid, const char *name, char *buf, size_t cap, size_t *len)
{
    char path[64];
    if (cap == 0 || proc_path(path, sizeof path, pid, name) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* one read: /proc makes the whole file for each read (seq_file, the
     * command line and environment), so what does not fit is cut off */
    ssize_t n;
    do
        n = read(fd, buf, cap - 1);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    size_t have = (size_t)n;
    close(fd);
    buf[have] = '\0';
    if (len)
        *len = have;
    return 0;
}

/* "pid (comm) S ppid ...": the pid is the leading number; comm may hold
 * spaces and parentheses, so the other fields are parsed after the last ')'. */
int proc_stat_read(pid_t pid, struct proc_stat *out)
{
    return proc_stat_read_areas(pid, out, NULL);
}

int proc_stat_read_areas(pid_t pid, struct proc_stat *out, struct proc_areas *areas)
{
    char buf[1024];
    size_t len;
    if (proc_file_read(pid, "stat", buf, sizeof buf, &len) < 0)
        return -1;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ') {
        errno = EINVAL;
        return -1;
    }
    uint64_t self = 0;
    for (const char *q = buf; *q >= '0' && *q <= '9'; q++)
        self = self * 10 + (uint64_t)(*q - '0');
    out->pid = (pid_t)self;
    p += 2;
    /* field 3 is the state, then ppid (4) ... starttime (22) */
    int field = 3, last = areas ? 51 : 22;
    uint64_t value = 0;
    out->state = *p;
    if (areas)
        *areas = (struct proc_areas){0};
    for (;; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\0') {
            if (field == 4)
                out->ppid = (pid_t)value;
            if (field == 9)
                out->flags = (uint32_t)value;
            if (field == 22)
                out->start_time = value;
            if (areas && field == 48)
                areas->arg_start = value;
            if (areas && field == 49)
                areas->arg_end = value;
            if (areas && field == 50)
                areas->env_start = value;
            if (areas && field == 51)
                areas->env_end = value;
            if (field == last || *p != ' ')
                break;
            field++;
            value = 0;
            /* fields 23-47 are not wanted: skipped a field at a time */
            while (field > 22 && field < 48 && (p = strchr(p + 1, ' ')) != NULL)
                field++;
            if (!p)
                break;
            continue;
        }
        if (field >= 4 && *p >= '0' && *p <= '9')
            value = value * 10 + (uint64_t)(*p - '0');
    }
    if (field < 22) {
        errno = EINVAL;
        return -1;
    }
    if (areas && field < 51)
        *areas = (struct proc_areas){0}; /* a kernel before 3.5 */
    return 0;
}

int proc_uid_read(pid_t pid, uid_t *uid)
{
    char buf[2048];
    size_t len;
    if (proc_file_read(pid, "status", buf, sizeof buf, &len) < 0)
        return -1;
    char *p = strstr(buf, "\nUid:");
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    p += 5;
    while (*p == '\t' || *p == ' ')
        p++;
    uint64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        v = v * 10 + (uint64_t)(*p - '0');
    if (!digits) {
        errno = EINVAL;
        return -1;
    }
    *uid = (uid_t)v;
    return 0;
}

int proc_exe_read(pid_t pid, char *buf, size_t cap)
{
    char path[64];
    if (cap == 0) {
        errno = EINVAL;
        return -1;
    }
    buf[0] = '\0';
    if (proc_path(path, sizeof path, pid, "exe") < 0)
        return -1;
    ssize_t n = readlink(path, buf, cap - 1);
    if (n < 0) {
        buf[0] = '\0';
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

/* Feeds /proc/<pid>/<name> to `eat` one read at a time until it returns
 * nonzero or the file ends.  Returns -1 if the file cannot be opened or
 * read, else eat's last answer (0 at the end of the file). */
static int proc_stream(pid_t pid, const char *name, char *buf, size_t cap,
                       int (*eat)(void *ctx, const char *chunk, size_t n), void *ctx)
{
    char path[64];
    if (proc_path(path, sizeof path, pid, name) < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int done = 0;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            done = -1;
        if (n <= 0 || (done = eat(ctx, buf, (size_t)n)) != 0)
            break;
    }
    close(fd);
    return done;
}

/* Compares entry by entry; `pos` is how far the current entry still
 * matches `entry` (or SIZE_MAX once it differs). */
struct entry_match {
    const char *entry;
    size_t want, pos;
};

static int eat_entry_match(void *ctx, const char *chunk, size_t n)
{
    struct entry_match *m = ctx;
    for (size_t i = 0; i < n; i++) {
        char c = chunk[i];
        if (c == '\0') {
            if (m->pos == m->want)
                return 1;
            m->pos = 0;
        } else if (m->pos != SIZE_MAX) {
            m->pos = (m->pos < m->want && m->entry[m->pos] == c) ? m->pos + 1 : SIZE_MAX;
        }
    }
    return 0;
}

int proc_environ_has(pid_t pid, const char *entry)
{
    char buf[4096];
    struct entry_match m = {.entry = entry, .want = strlen(entry)};
    return proc_stream(pid, "environ", buf, sizeof buf, eat_entry_match, &m);
}

int proc_nspid_read(pid_t pid, pid_t *out, int max)
{
    char buf[2048];
    size_t len;
    if (proc_file_read(pid, "status", buf, sizeof buf, &len) < 0)
        return -1;
    char *p = strstr(buf, "\nNSpid:");
    if (!p)
        return 0; /* kernels without NSpid have no nesting we can see */
    p += 7;
    int levels = 0, in_num = 0;
    uint64_t v = 0;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            v = in_num ? v * 10 + (uint64_t)(*p - '0') : (uint64_t)(*p - '0');
            in_num = 1;
            continue;
        }
        if (in_num) {
            if (levels < max)
                out[levels] = (pid_t)v;
            levels++;
        }
        in_num = 0;
        if (*p == '\n' || *p == '\0')
            break;
    }
    if (levels == 0) {
        errno = EINVAL;
        return -1;
    }
    return levels;
}

int proc_in_nested_pidns(pid_t pid)
{
    pid_t chain[1];
    int levels = proc_nspid_read(pid, chain, 1);
    return levels < 0 ? -1 : levels > 1;
}

#define NSPID_MAX 32 /* the kernel nests PID namespaces 32 deep at most */

int proc_nslocal_match(pid_t pid, pid_t parent, pid_t local, pid_t local_parent)
{
    pid_t child_chain[NSPID_MAX], parent_chain[NSPID_MAX];
    int nc = proc_nspid_read(pid, child_chain, NSPID_MAX);
    int np = proc_nspid_read(parent, parent_chain, NSPID_MAX);
    if (nc < 0 || np < 0)
        return -1;
    if (nc > NSPID_MAX)
        nc = NSPID_MAX;
    if (np > NSPID_MAX)
        np = NSPID_MAX;
    /* level 0 is this /proc's own view: a namespace-local record is never that */
    for (int level = 1; level < nc && level < np; level++)
        if (child_chain[level] == local && parent_chain[level] == local_parent)
            return 1;
    return 0;
}

/* `pos` < want: the current entry still matches "name="; == want: its
 * value is being copied; SIZE_MAX: the entry differs, wait for its NUL. */
struct value_copy {
    const char *name;
    size_t want, pos;
    char *out;
    size_t cap;
    long len;
};

static int eat_value(void *ctx, const char *chunk, size_t n)
{
    struct value_copy *v = ctx;
    for (size_t i = 0; i < n;) {
        if (v->pos == SIZE_MAX) {
            /* skip the rest of an entry that differs */
            const char *nul = memchr(chunk + i, '\0', n - i);
            if (!nul)
                return 0;
            i = (size_t)(nul - chunk) + 1;
            v->pos = 0;
        } else if (v->pos == 0 && n - i >= v->want) {
            /* "name=" whole in this chunk: one comparison (an entry that
             * ends sooner differs at its NUL, which the skip then finds) */
            int same = memcmp(chunk + i, v->name, v->want - 1) == 0 && chunk[i + v->want - 1] == '=';
            v->pos = same ? v->want : SIZE_MAX;
            i += same ? v->want : 0;
        } else if (v->pos < v->want) {
            /* "name=" split across two reads: byte by byte */
            char c = chunk[i++];
            char expect = v->pos + 1 == v->want ? '=' : v->name[v->pos];
            v->pos = c == expect ? v->pos + 1 : c == '\0' ? 0 : SIZE_MAX;
        } else {
            const char *nul = memchr(chunk + i, '\0', n - i);
            size_t take = nul ? (size_t)(nul - (chunk + i)) : n - i;
            size_t room = v->cap > (size_t)v->len + 1 ? v->cap - (size_t)v->len - 1 : 0;
            if (room) {
                size_t c = take < room ? take : room;
                memcpy(v->out + v->len, chunk + i, c);
                v->out[(size_t)v->len + c] = '\0';
            }
            v->len += (long)take;
            if (nul)
                return 1;
            return 0;
        }
    }
    return 0;
}

long proc_environ_value(pid_t pid, const char *name, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    char buf[16384];
    struct value_copy v = {.name = name, .want = strlen(name) + 1, .out = out, .cap = cap};
    int rc = proc_stream(pid, "environ", buf, sizeof buf, eat_value, &v);
    if (rc < 0)
        return -2;
    return rc == 1 || v.pos == v.want ? v.len : -1; /* the last entry may lack its NUL */
}

long proc_env_value_in(const char *env, size_t len, const char *name, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    struct value_copy v = {.name = name, .want = strlen(name) + 1, .out = out, .cap = cap};
    int rc = eat_value(&v, env, len);
    return rc == 1 || v.pos == v.want ? v.len : -1; /* the last entry may lack its NUL */
}

int proc_args_env_read(pid_t pid, const struct proc_areas *a, char *buf, size_t cap, char *cmd, size_t cmdcap,
                       size_t *cmdlen, const char **env, size_t *envlen)
{
    /* the layout exec makes, arguments right before the environment */
    if (!a->arg_start || a->arg_start >= a->arg_end || a->env_start != a->arg_end || a->env_end < a->env_start ||
        a->env_end - a->arg_start > cap || cmdcap == 0) {
        errno = EINVAL;
        return -1;
    }
    size_t total = (size_t)(a->env_end - a->arg_start), args = (size_t)(a->arg_end - a->arg_start);
    struct iovec local = {.iov_base = buf, .iov_len = total};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)a->arg_start, .iov_len = total};
    ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (got < 0 || (size_t)got != total) {
        if (got >= 0)
            errno = EFAULT;
        return -1;
    }
    /* get_mm_cmdline: a last argument byte that is not NUL means the
     * process rewrote its command line (setproctitle), which may run on
     * into the environment: up to its first NUL, within one page */
    size_t n = args;
    if (buf[args - 1] != '\0') {
        long page = sysconf(_SC_PAGESIZE); /* what the kernel serves of a rewritten one */
        size_t limit = page > 0 && (size_t)page < total ? (size_t)page : total;
        n = strnlen(buf, limit);
        n += n < limit;
    }
    if (n > cmdcap - 1)
        n = cmdcap - 1;
    memcpy(cmd, buf, n);
    cmd[n] = '\0';
    *cmdlen = n;
    *env = buf + args;
    *envlen = total - args;
    return 0;
}

long proc_last_pid(void)
{
    char buf[32];
    int fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    uint64_t v = 0;
    int digits = 0;
    for (const char *p = buf; *p >= '0' && *p <= '9'; p++, digits++)
        v = v * 10 + (uint64_t)(*p - '0');
    return digits ? (long)v : -1;
}

/* Parses hex digits at *p, advancing it. */
static uint64_t parse_hex(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * 16 + (uint64_t)d;
    }
}

/* One line of maps: "start-end perms offset MAJ:MIN inode  path". */
static int maps_line_is(const char *line, unsigned major, unsigned minor, uint64_t ino)
{
    const char *p = line;
    for (int field = 0; field < 3; field++) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    uint64_t maj = parse_hex(&p);
    if (*p++ != ':')
        return 0;
    uint64_t min = parse_hex(&p);
    if (*p++ != ' ')
        return 0;
    uint64_t inode = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        inode = inode * 10 + (uint64_t)(*p - '0');
    return maj == major && min == minor && inode == ino && ino != 0;
}

/* Lines are short up to the path, which we do not need: the beginning of
 * each line is kept. */
struct maps_match {
    unsigned major, minor;
    uint64_t ino;
    char line[160];
    size_t len;
};

static int eat_maps(void *ctx, const char *chunk, size_t n)
{
    struct maps_match *m = ctx;
    for (size_t i = 0; i < n; i++) {
        if (chunk[i] != '\n') {
            if (m->len < sizeof m->line - 1)
                m->line[m->len++] = chunk[i];
            continue;
        }
        m->line[m->len] = '\0';
        m->len = 0;
        if (maps_line_is(m->line, m->major, m->minor, m->ino))
            return 1;
    }
    return 0;
}

int proc_maps_file(pid_t pid, unsigned major, unsigned minor, uint64_t ino)
{
    char buf[8192];
    struct maps_match m = {.major = major, .minor = minor, .ino = ino};
    return proc_stream(pid, "maps", buf, sizeof buf, eat_maps, &m);
}
