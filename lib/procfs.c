#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "safestr.h"

int proc_path(char *buf, size_t cap, pid_t pid, const char *name)
{
    char num[24];
    if (pid > 0)
        cr_utoa((uint64_t)pid, num, sizeof num);
    else
        cr_strlcpy(num, "self", sizeof num);
    buf[0] = '\0';
    cr_strlcat(buf, "/proc/", cap);
    cr_strlcat(buf, num, cap);
    cr_strlcat(buf, "/", cap);
    return cr_strlcat(buf, name, cap) < cap ? 0 : -1;
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
    size_t have = 0;
    while (have < cap - 1) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
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
    int field = 3;
    uint64_t value = 0;
    out->state = *p;
    for (; *p && field <= 22; p++) {
        if (*p == ' ') {
            if (field == 4)
                out->ppid = (pid_t)value;
            if (field == 9)
                out->flags = (uint32_t)value;
            if (field == 22)
                break;
            field++;
            value = 0;
            continue;
        }
        if (field >= 4 && *p >= '0' && *p <= '9')
            value = value * 10 + (uint64_t)(*p - '0');
    }
    if (field != 22) {
        errno = EINVAL;
        return -1;
    }
    out->start_time = value;
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

int proc_environ_has(pid_t pid, const char *entry)
{
    char path[64];
    if (proc_path(path, sizeof path, pid, "environ") < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* Compare entry by entry; `pos` is how far the current entry still
     * matches `entry` (or SIZE_MAX once it differs). */
    size_t want = strlen(entry), pos = 0;
    char buf[4096];
    int found = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && !found; i++) {
            char c = buf[i];
            if (c == '\0') {
                if (pos == want)
                    found = 1;
                pos = 0;
            } else if (pos != SIZE_MAX) {
                pos = (pos < want && entry[pos] == c) ? pos + 1 : SIZE_MAX;
            }
        }
        if (found)
            break;
    }
    close(fd);
    return found;
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
