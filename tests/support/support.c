#include "support.h"

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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "safestr.h"

#define REMEMBERED_MAX 8192

static struct {
    pid_t pid;
    uint64_t start_time;
} remembered[REMEMBERED_MAX];
static int nremembered;

void ts_remember(pid_t pid)
{
    struct proc_stat st;
    if (pid <= 0 || proc_stat_read(pid, &st) < 0)
        return;
    for (int i = 0; i < nremembered; i++)
        if (remembered[i].pid == pid) {
            remembered[i].start_time = st.start_time; /* the newest holder of the pid */
            return;
        }
    if (nremembered < REMEMBERED_MAX) {
        remembered[nremembered].pid = pid;
        remembered[nremembered++].start_time = st.start_time;
    }
}

int ts_kill(pid_t pid, int sig)
{
    for (int i = 0; pid > 0 && i < nremembered; i++) {
        if (remembered[i].pid != pid)
            continue;
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
            return -1;
        struct proc_stat st;
        int rc = -1;
        if (proc_stat_read(pid, &st) == 0 && st.start_time == remembered[i].start_time)
            rc = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
        close(fd);
        return rc;
    }
    errno = ESRCH;
    return -1;
}

static const char *rotate(const char *base, const char *rel)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", base, rel);
    return b;
}

const char *ts_build(const char *rel) { return rotate(CR_BUILD_DIR, rel); }
const char *ts_join(const char *dir, const char *name) { return rotate(dir, name); }

int ts_remove_registries_of(uid_t uid, pid_t root)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, CR_REGISTRY_PREFIX "%u-", (unsigned)uid);
    DIR *d = opendir(CR_REGISTRY_DIR);
    if (!d)
        return 0;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        const char *id = de->d_name + strlen(prefix);
        struct cr_registry reg;
        int match = root <= 0 && strncmp(id, "crtest-", 7) != 0;
        if (root > 0 && registry_open(&reg, (uint32_t)uid, id, 0, NULL, 0) == CR_REG_OK) {
            match = reg.hdr->root_pid == root;
            registry_close(&reg);
        }
        if (match && registry_unlink((uint32_t)uid, id) == 0)
            n++;
    }
    closedir(d);
    return n;
}
const char *ts_source(const char *rel) { return rotate(CR_SOURCE_DIR, rel); }

void ts_session_create(char *id, size_t len, struct cr_registry *reg)
{
    ts_session_create_sized(id, len, reg, CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT);
}

void ts_session_create_sized(char *id, size_t len, struct cr_registry *reg, uint32_t entries,
                             uint32_t dirs)
{
    static int counter;
    snprintf(id, len, "crtest-%d-%d", (int)getpid(), counter++);
    registry_unlink((uint32_t)getuid(), id); /* a crashed earlier worker's */
    enum cr_registry_status st = registry_create(reg, id, entries, dirs);
    cr_assert_eq(st, CR_REG_OK, "registry_create(%s): %s", id, registry_status_name(st));
}

void ts_session_remove(const char *id)
{
    registry_unlink((uint32_t)getuid(), id);
}

const char *ts_registry_file(uint32_t uid, const char *id)
{
    static char path[256];
    cr_assert_eq(registry_path(path, sizeof path, uid, id), 0);
    return path;
}

static int later(const struct statx_timestamp *a, const struct statx_timestamp *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

void ts_after_birth_of(const char *ref, const char *dir)
{
    struct statx r, p;
    cr_assert_eq(statx(AT_FDCWD, ref, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &r), 0, "%s: %s", ref, strerror(errno));
    cr_assert(r.stx_mask & STATX_BTIME, "%s has no creation time here", ref);
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.crtest-clock-probe-%d", dir, (int)getpid());
    for (int i = 0; i < 5000; i++) {
        int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0, "%s: %s", probe, strerror(errno));
        close(fd);
        int ok = statx(AT_FDCWD, probe, 0, STATX_BTIME, &p) == 0;
        unlink(probe);
        if (ok && later(&p.stx_btime, &r.stx_btime))
            return;
        usleep(1000);
    }
    cr_assert_fail("the clock never passed the creation time of %s", ref);
}

void ts_tmpdir(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/crtest-%s-XXXXXX", tag);
    cr_assert_not_null(mkdtemp(buf), "mkdtemp: %s", strerror(errno));
}

void ts_rm_rf(const char *path)
{
    if (!path || !path[0] || strcmp(path, "/") == 0)
        return;
    char *argv[] = {"rm", "-rf", "--one-file-system", (char *)path, NULL};
    ts_run(argv, NULL);
}

pid_t ts_spawn(char *const argv[], const char *session, const char *stdout_path)
{
    return ts_spawn_split(argv, session, stdout_path, stdout_path);
}

pid_t ts_spawn_split(char *const argv[], const char *session, const char *stdout_path,
                     const char *stderr_path)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        /* if the test worker is killed (a time-out) before its .fini can
         * clean up, what it started must not run on: a bot dies with it,
         * and its session is then reaped like any other */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (session) {
            setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
            setenv("CHROMEREAPER_SESSION", session, 1);
        }
        if (stdout_path) {
            int fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0)
                dup2(fd, 1);
        }
        if (stderr_path) {
            int fd = stderr_path == stdout_path
                         ? 1
                         : open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0)
                dup2(fd, 2);
        }
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    ts_remember(pid);
    return pid;
}

int ts_run(char *const argv[], char **out)
{
    int pipefd[2];
    cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(pipefd[0], buf + len, cap - len - 1)) > 0 || (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        len += (size_t)n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(pipefd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

int ts_wait_file(const char *path, double max_sec)
{
    double end = now_sec() + max_sec;
    struct stat st;
    while (now_sec() < end) {
        if (stat(path, &st) == 0 && st.st_size > 0)
            return 0;
        nap();
    }
    return -1;
}

int ts_alive(pid_t pid)
{
    struct proc_stat st;
    return proc_stat_read(pid, &st) == 0 && st.state != 'Z';
}

int ts_wait_gone(pid_t pid, double max_sec)
{
    double end = now_sec() + max_sec;
    while (now_sec() < end) {
        if (!ts_alive(pid))
            return 0;
        nap();
    }
    return -1;
}

int ts_waitpid(pid_t pid, double max_sec)
{
    double end = now_sec() + max_sec;
    int st;
    while (now_sec() < end) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        nap();
    }
    return -1;
}

int ts_read_pids(const char *path, pid_t *out, int max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0, v;
    while (n < max && fscanf(f, "%d", &v) == 1) {
        ts_remember(v);
        out[n++] = v;
    }
    fclose(f);
    return n;
}

char *ts_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static int for_each_cookie_holder(const char *session, int sig)
{
    char cookie[128];
    snprintf(cookie, sizeof cookie, "CHROMEREAPER_SESSION=%s", session);
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t pid;
        if (cr_parse_u64(de->d_name, &pid) < 0 || (pid_t)pid == getpid())
            continue;
        /* pin it first, then check: the signal reaches the process we read */
        int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
        if (fd < 0)
            continue;
        if (ts_alive((pid_t)pid) && proc_environ_has((pid_t)pid, cookie) == 1) {
            n++;
            if (sig)
                syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
        }
        close(fd);
    }
    closedir(d);
    return n;
}

pid_t ts_wait_watchdog(const char *id, double max_sec)
{
    double t0 = now_sec();
    pid_t w;
    while ((w = ts_watchdog_pid(id)) < 0 && now_sec() - t0 < max_sec)
        nap();
    return w;
}

int ts_count_cookie(const char *session) { return for_each_cookie_holder(session, 0); }

void ts_kill_session(const char *session)
{
    for (int round = 0; round < 5 && for_each_cookie_holder(session, SIGKILL) > 0; round++)
        nap();
    ts_session_remove(session);
}

int ts_fixture_ready(const char *outdir, pid_t *pids, int max, char *dir, size_t dirlen)
{
    char ready[4200], pidfile[4200], dirfile[4200];
    snprintf(ready, sizeof ready, "%s/ready", outdir);
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    int n = ts_read_pids(pidfile, pids, max);
    char *made = ts_slurp(dirfile);
    cr_assert_not_null(made);
    snprintf(dir, dirlen, "%s", made);
    free(made);
    return n;
}

int ts_fixture_gone(const char *session, const pid_t *pids, int npids, const char *dir)
{
    for (int i = 0; i < npids; i++)
        if (ts_alive(pids[i]))
            return 0;
    struct stat st;
    char shm[128];
    registry_path(shm, sizeof shm, (uint32_t)getuid(), session);
    return stat(dir, &st) != 0 && stat(shm, &st) != 0;
}

void ts_cleanup_fixture(const char *session, const pid_t *pids, int npids, pid_t group, const char *dir)
{
    if (session[0]) {
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", (char *)session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        ts_kill_session(session);
    }
    for (int i = 0; i < npids; i++)
        ts_kill(pids[i], SIGKILL);
    if (group > 0) {
        kill(-group, SIGKILL);
        ts_waitpid(group, 10);
    }
    if (dir[0])
        ts_rm_rf(dir);
}

int ts_descendants(pid_t root, pid_t *out, int max)
{
    /* repeated passes over /proc until no new child of the set appears */
    int n = 0, grew = 1;
    while (grew) {
        grew = 0;
        DIR *d = opendir("/proc");
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL && n < max) {
            uint64_t pid;
            struct proc_stat st;
            if (cr_parse_u64(de->d_name, &pid) < 0 || proc_stat_read((pid_t)pid, &st) < 0 || st.state == 'Z')
                continue;
            int parent_in = st.ppid == root, known = 0;
            for (int i = 0; i < n; i++) {
                parent_in |= out[i] == st.ppid;
                known |= out[i] == (pid_t)pid;
            }
            if (parent_in && !known) {
                ts_remember((pid_t)pid);
                out[n++] = (pid_t)pid;
                grew = 1;
            }
        }
        if (d)
            closedir(d);
    }
    return n;
}

const char *ts_tree_row(const char *text, pid_t pid, char *buf, size_t len)
{
    char want[32];
    snprintf(want, sizeof want, "%d ", (int)pid);
    for (const char *l = text; l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        const char *p = l;
        while (p < l + n && *p == ' ')
            p++;
        if (strncmp(p, want, strlen(want)) == 0) {
            snprintf(buf, len, "%.*s", (int)(n - (size_t)(p - l)), p);
            return buf;
        }
        l = nl ? nl + 1 : NULL;
    }
    return NULL;
}

pid_t ts_watchdog_pid(const char *id)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    pid_t found = -1;
    while (d && found < 0 && (de = readdir(d)) != NULL) {
        uint64_t pid;
        char cmd[512];
        size_t len;
        if (cr_parse_u64(de->d_name, &pid) < 0 || !ts_alive((pid_t)pid) ||
            proc_file_read((pid_t)pid, "cmdline", cmd, sizeof cmd, &len) < 0)
            continue;
        for (size_t i = 0; i < len; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        if (strstr(cmd, " watch --session ") && strstr(cmd, id))
            found = (pid_t)pid;
    }
    if (d)
        closedir(d);
    return found;
}
