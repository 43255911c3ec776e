#include "dirusers.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "rmtree.h"
#include "role.h"

static int within(const char *path, const char *dir)
{
    return strcmp(path, dir) == 0 || rmtree_path_below(path, dir);
}

/* Marks every dir that `path` lies in as used by pid. */
static void mark(const char *path, const char *const *dirs, size_t n, pid_t *used_by, pid_t pid)
{
    if (path[0] != '/')
        return;
    for (size_t i = 0; i < n; i++)
        if (!used_by[i] && within(path, dirs[i]))
            used_by[i] = pid;
}

static void mark_link(int dirfd, const char *link, const char *const *dirs, size_t n, pid_t *used_by,
                      pid_t pid)
{
    char target[4096];
    ssize_t len = readlinkat(dirfd, link, target, sizeof target - 1);
    if (len <= 0)
        return;
    target[len] = '\0';
    mark(target, dirs, n, used_by, pid);
}

static void scan_process(pid_t pid, const char *const *dirs, size_t n, pid_t *used_by)
{
    char path[64], buf[8192];
    size_t len;
    if (proc_path(path, sizeof path, pid, "cwd") == 0)
        mark_link(AT_FDCWD, path, dirs, n, used_by, pid);
    if (proc_file_read(pid, "cmdline", buf, sizeof buf, &len) == 0) {
        const char *udd = role_user_data_dir_cmdline(buf, len);
        if (udd)
            mark(udd, dirs, n, used_by, pid);
    }
    if (proc_path(path, sizeof path, pid, "fd") < 0)
        return;
    DIR *fds = opendir(path);
    if (!fds)
        return;
    struct dirent *de;
    while ((de = readdir(fds)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        mark_link(dirfd(fds), de->d_name, dirs, n, used_by, pid);
    }
    closedir(fds);
}

void dir_users_scan(const char *const *dirs, size_t n, pid_t *used_by, const pid_t *skip, size_t n_skip)
{
    memset(used_by, 0, n * sizeof *used_by);
    if (!n)
        return;
    DIR *proc = opendir("/proc");
    if (!proc)
        return;
    pid_t self = getpid();
    struct dirent *de;
    while ((de = readdir(proc)) != NULL) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (*end || v <= 0 || (pid_t)v == self)
            continue;
        int skipped = 0;
        for (size_t k = 0; k < n_skip && !skipped; k++)
            skipped = skip[k] == (pid_t)v;
        if (!skipped)
            scan_process((pid_t)v, dirs, n, used_by);
    }
    closedir(proc);
}
