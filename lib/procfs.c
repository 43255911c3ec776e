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

/* Fields after the command name: "pid (comm) S ppid ..."; comm may hold
 * spaces and parentheses, so parsing starts after the last ')'. */
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
    p += 2;
    /* field 3 is the state, then ppid (4) ... starttime (22) */
    int field = 3;
    uint64_t value = 0;
    out->state = *p;
    for (; *p && field <= 22; p++) {
        if (*p == ' ') {
            if (field == 4)
                out->ppid = (pid_t)value;
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

int proc_in_nested_pidns(pid_t pid)
{
    char buf[2048];
    size_t len;
    if (proc_file_read(pid, "status", buf, sizeof buf, &len) < 0)
        return -1;
    char *p = strstr(buf, "\nNSpid:");
    if (!p)
        return 0; /* kernels without NSpid have no nesting we can see */
    p += 7;
    char *eol = strchr(p, '\n');
    int fields = 0, in_num = 0;
    for (; *p && p != eol; p++) {
        int digit = *p >= '0' && *p <= '9';
        if (digit && !in_num)
            fields++;
        in_num = digit;
    }
    return fields > 1;
}
