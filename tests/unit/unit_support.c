#include "unit_support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "role.h"
#include "safestr.h"

#define UT_MAX_PATHS 64
#define UT_MAX_CHILDREN 64

static char ut_paths[UT_MAX_PATHS][128];
static size_t ut_npaths;
static pid_t ut_children[UT_MAX_CHILDREN];
static size_t ut_nchildren;
static unsigned ut_session_seq;

void ut_track_path(const char *path)
{
    cr_assert_lt(ut_npaths, UT_MAX_PATHS, "too many tracked paths");
    cr_assert_lt(strlen(path), sizeof ut_paths[0], "tracked path too long: %s", path);
    cr_strlcpy(ut_paths[ut_npaths++], path, sizeof ut_paths[0]);
}

void ut_registry_path(char *buf, size_t len, uint32_t uid, const char *session)
{
    cr_assert_eq(registry_path(buf, len, uid, session), 0, "registry_path(%s)", session);
}

const char *ut_session_new(char *buf, size_t len, uint32_t uid)
{
    char path[128];
    int n = snprintf(buf, len, UT_SESSION_PREFIX "%ld-%u", (long)getpid(), ut_session_seq++);
    cr_assert(n > 0 && (size_t)n < len, "session buffer too small");
    ut_registry_path(path, sizeof path, uid, buf);
    ut_track_path(path);
    return buf;
}

void ut_registry_create(struct cr_registry *reg, char *session, uint32_t entry_capacity,
                        uint32_t dir_capacity)
{
    ut_session_new(session, CR_SESSION_MAX, (uint32_t)getuid());
    enum cr_registry_status st = registry_create(reg, session, entry_capacity, dir_capacity);
    cr_assert_eq(st, CR_REG_OK, "registry_create(%s): %s (%s)", session, registry_status_name(st),
                 strerror(errno));
}

pid_t ut_fork(void)
{
    pid_t parent = getpid();
    cr_assert_lt(ut_nchildren, UT_MAX_CHILDREN, "too many tracked children");
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        return 0;
    }
    ut_children[ut_nchildren++] = pid;
    return pid;
}

static void ut_forget_child(pid_t pid)
{
    for (size_t i = 0; i < ut_nchildren; i++) {
        if (ut_children[i] == pid) {
            ut_children[i] = ut_children[--ut_nchildren];
            return;
        }
    }
}

int ut_wait(pid_t pid)
{
    int status = 0;
    pid_t r;
    do
        r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    cr_assert_eq(r, pid, "waitpid(%ld): %s", (long)pid, strerror(errno));
    ut_forget_child(pid);
    return status;
}

void ut_kill_wait(pid_t pid)
{
    kill(pid, SIGKILL);
    ut_wait(pid);
}

void ut_cleanup(void)
{
    while (ut_nchildren > 0) {
        pid_t pid = ut_children[--ut_nchildren];
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    while (ut_npaths > 0) {
        const char *p = ut_paths[--ut_npaths];
        if (unlink(p) < 0 && (errno == EISDIR || errno == EPERM))
            rmdir(p);
    }
}

void ut_entry_make(struct cr_entry *e, int32_t writer, int32_t seq)
{
    char num[24];
    memset(e, 0, sizeof *e);
    e->pid = writer;
    e->ppid = seq;
    e->start_time = ((uint64_t)(uint32_t)writer << 32) | (uint32_t)seq;
    e->flags = (uint32_t)(e->start_time * 2654435761u) ^ 0xa5a5a5a5u;
    e->seen_by = 1 + (uint32_t)seq % CR_SEEN_MAX;
    e->role = ((uint32_t)writer + (uint32_t)seq) % (CR_ROLE_MAX + 1);
    /* the string is full (CR_EXE_MAX - 1 bytes + NUL), so any torn byte shows */
    size_t n = cr_utoa(e->start_time, num, sizeof num);
    for (size_t i = 0; i < sizeof e->exe - 1; i++)
        e->exe[i] = i % (n + 1) == n ? ':' : num[i % (n + 1)];
}

int ut_entry_check(const struct cr_entry *e)
{
    struct cr_entry want;
    if (e->pid <= 0 || e->ppid < 0)
        return 0;
    ut_entry_make(&want, e->pid, e->ppid);
    /* everything but the state word and the sequence number the registry assigns */
    want.state = e->state;
    want.seq = e->seq;
    return memcmp(e, &want, sizeof want) == 0;
}

int ut_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ut_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Safety net for a test worker that crashed before its .fini ran: at exit
 * (of the runner, after all workers), remove every
 * /dev/shm/chromereaper-<uid>-crtest-unit-<pid>-<n> whose <pid> is gone. */
__attribute__((destructor)) static void ut_sweep_dead_workers(void)
{
    DIR *d = opendir(CR_REGISTRY_DIR);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strncmp(name, CR_REGISTRY_PREFIX, strlen(CR_REGISTRY_PREFIX)) != 0)
            continue;
        const char *p = strstr(name, "-" UT_SESSION_PREFIX);
        if (!p)
            continue;
        p += 1 + strlen(UT_SESSION_PREFIX);
        char *end;
        long pid = strtol(p, &end, 10);
        if (pid <= 0 || *end != '-' || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (unlinkat(dirfd(d), name, 0) < 0 && (errno == EISDIR || errno == EPERM))
            unlinkat(dirfd(d), name, AT_REMOVEDIR);
    }
    closedir(d);
}
