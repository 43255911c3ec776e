/* Helpers shared by the shim suites (tests/shim/test_shim*.c).  Everything
 * is static: each suite file gets its own copy and its own state.
 *
 * Every test runs in its own Criterion worker process; `shx` holds what the
 * running test created (session, temp dir, programs it started, sessions a
 * child created by mistake) so .fini can remove all of it, also when an
 * assertion failed half-way. */
#ifndef CHROMEREAPER_SHIM_TEST_H
#define CHROMEREAPER_SHIM_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "role.h"
#include "support.h"

#include "../fixtures/fx_common.h"

#define SHX_MAX_PIDS 16
#define SHX_MAX_EXTRA 16

static struct {
    char id[64];
    int have_session;
    char tmp[256];
    pid_t pids[SHX_MAX_PIDS]; /* started, not yet reaped; each leads its own group */
    int npids;
    char extra[SHX_MAX_EXTRA][CR_SESSION_MAX]; /* sessions someone else created */
    int nextra;
    char shm_files[4][256]; /* hand-made /dev/shm objects */
    int nshm;
} shx;

static inline void shx_init(void)
{
    memset(&shx, 0, sizeof shx);
}

static inline void shx_forget_pid(pid_t pid)
{
    for (int i = 0; i < shx.npids; i++)
        if (shx.pids[i] == pid)
            shx.pids[i] = shx.pids[--shx.npids];
}

static inline void shx_fini(void)
{
    /* what is still running: its whole process group, then the leader */
    for (int i = 0; i < shx.npids; i++) {
        kill(-shx.pids[i], SIGKILL);
        kill(shx.pids[i], SIGKILL);
        while (waitpid(shx.pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    }
    shx.npids = 0;
    /* whatever carries a cookie of ours (double-forked, reparented...) */
    if (shx.have_session)
        ts_kill_session(shx.id);
    for (int i = 0; i < shx.nextra; i++)
        ts_kill_session(shx.extra[i]);
    for (int i = 0; i < shx.nshm; i++)
        unlink(shx.shm_files[i]);
    if (shx.tmp[0])
        ts_rm_rf(shx.tmp);
    shx_init();
}

/* A fresh session with an empty registry, removed by shx_fini. */
static inline void shx_session_sized(uint32_t entries, uint32_t dirs)
{
    struct cr_registry reg;
    ts_session_create_sized(shx.id, sizeof shx.id, &reg, entries, dirs);
    shx.have_session = 1;
    registry_close(&reg);
}

static inline void shx_session(void)
{
    shx_session_sized(CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT);
}

static inline void shx_tmpdir(void)
{
    ts_tmpdir(shx.tmp, sizeof shx.tmp, "shim");
}

/* shx.tmp "/" name, in one of a few rotating buffers. */
static inline const char *shx_tmp(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", shx.tmp, name);
    return b;
}

/* A session id a child reported: if it is not ours, the child created
 * that registry itself; remember it for removal. */
static inline void shx_note_session(const char *id)
{
    if (!id || !session_id_valid(id) || (shx.have_session && strcmp(id, shx.id) == 0))
        return;
    for (int i = 0; i < shx.nextra; i++)
        if (strcmp(shx.extra[i], id) == 0)
            return;
    if (shx.nextra < SHX_MAX_EXTRA && strlen(id) < CR_SESSION_MAX)
        memcpy(shx.extra[shx.nextra++], id, strlen(id) + 1);
}

static inline void shx_track(pid_t pid)
{
    cr_assert_lt(shx.npids, SHX_MAX_PIDS);
    shx.pids[shx.npids++] = pid;
}

/* ts_spawn under our session (or none), remembered for cleanup. */
static inline pid_t shx_spawn(char *const argv[], const char *session, const char *stdout_path)
{
    pid_t pid = ts_spawn(argv, session, stdout_path);
    shx_track(pid);
    return pid;
}

/* Like ts_spawn, but with LD_PRELOAD=<our shim> and
 * CHROMEREAPER_SESSION=`session` whatever that is (unusable ones too), the
 * default log level, and stderr into `stderr_path`. */
static inline pid_t shx_spawn_stderr(char *const argv[], const char *session,
                                     const char *stdout_path, const char *stderr_path)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
        setenv("CHROMEREAPER_SESSION", session, 1);
        unsetenv("CHROMEREAPER_LOG");
        unsetenv("CHROMEREAPER_WARNED");
        unsetenv("CHROMEREAPER_WATCHDOG");
        int fd = open(stdout_path ? stdout_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 1);
        fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    shx_track(pid);
    return pid;
}

/* Waits (upper bound only, never asserted on) and returns the status. */
static inline int shx_wait(pid_t pid, double max_sec)
{
    int st = ts_waitpid(pid, max_sec);
    cr_assert_neq(st, -1, "pid %d did not finish within %.0f s (deadlock?)", (int)pid, max_sec);
    shx_forget_pid(pid);
    return st;
}

static inline void shx_assert_exit0(int st, const char *what)
{
    cr_assert(WIFEXITED(st), "%s: killed by signal %d", what, WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    cr_assert_eq(WEXITSTATUS(st), 0, "%s: exit status %d", what, WEXITSTATUS(st));
}

/* ---------------------------------------------------------- registry */

struct shx_entries {
    struct cr_entry *e;
    int n;
    uint32_t overflow;
};

/* Every committed entry of `session`, read the way the reaper reads them
 * (read-only, validated). */
static inline void shx_read_entries(const char *session, struct shx_entries *out)
{
    struct cr_registry reg;
    char why[256] = "";
    enum cr_registry_status st = registry_open(&reg, (uint32_t)getuid(), session, 0, why, sizeof why);
    cr_assert_eq(st, CR_REG_OK, "registry_open(%s): %s (%s)", session, registry_status_name(st), why);
    uint32_t count = registry_entry_count(&reg);
    if (count > reg.hdr->entry_capacity)
        count = reg.hdr->entry_capacity;
    out->e = calloc(count + 1, sizeof *out->e);
    out->n = 0;
    for (uint32_t i = 0; i < count; i++)
        if (registry_entry_read(&reg, i, &out->e[out->n]))
            out->n++;
    out->overflow = registry_overflow(&reg);
    registry_close(&reg);
}

/* How many entries match; ppid < 0 and seen 0 match anything.  The last
 * match goes to *last when given. */
static inline int shx_count(const struct shx_entries *es, pid_t pid, pid_t ppid, int seen,
                            struct cr_entry *last)
{
    int n = 0;
    for (int i = 0; i < es->n; i++) {
        const struct cr_entry *e = &es->e[i];
        if ((pid <= 0 || e->pid == pid) && (ppid < 0 || e->ppid == ppid) &&
            (seen == 0 || (int)e->seen_by == seen)) {
            n++;
            if (last)
                *last = *e;
        }
    }
    return n;
}

static inline int shx_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static inline int shx_key_cmp(const void *a, const void *b)
{
    const struct cr_entry *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->start_time < y->start_time ? -1 : x->start_time > y->start_time;
}

/* How many processes have a record of their own (their constructor's, or
 * their exec wrapper's, which the new image's constructor adopts: one
 * record per exec) naming `ppid` (< 0: any) and an exe ending in `suffix`
 * (NULL: any), each process counted once whatever number of records. */
static inline int shx_self_recorded(const struct shx_entries *es, pid_t ppid, const char *suffix)
{
    struct cr_entry *own = calloc((size_t)es->n + 1, sizeof *own);
    int n = 0, distinct = 0;
    for (int i = 0; own && i < es->n; i++) {
        const struct cr_entry *e = &es->e[i];
        if ((e->seen_by == CR_SEEN_CONSTRUCTOR || e->seen_by == CR_SEEN_EXEC) &&
            (ppid < 0 || e->ppid == ppid) && (!suffix || shx_ends_with(e->exe, suffix)))
            own[n++] = *e;
    }
    if (own)
        qsort(own, (size_t)n, sizeof *own, shx_key_cmp);
    for (int i = 0; i < n; i++)
        distinct += i == 0 || shx_key_cmp(&own[i - 1], &own[i]) != 0;
    free(own);
    return distinct;
}

/* ---------------------------------------------------------- fx_child lines */

struct shx_line {
    int pid, session, preload, fx;
    char session_id[CR_SESSION_MAX + 16];
    char preload_value[4096];
};

/* Parses up to `max` fx_child report lines of `path`; returns how many. */
static inline int shx_read_lines(const char *path, struct shx_line *out, int max)
{
    char *text = ts_slurp(path);
    if (!text)
        return 0;
    int n = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save)) {
        struct shx_line *x = &out[n];
        int used = 0;
        memset(x, 0, sizeof *x);
        if (sscanf(l, "%d %d %d %d %79s %n", &x->pid, &x->session, &x->preload, &x->fx,
                   x->session_id, &used) < 5 || used == 0)
            continue;
        snprintf(x->preload_value, sizeof x->preload_value, "%s", l + used);
        shx_note_session(x->session_id);
        n++;
    }
    free(text);
    return n;
}

/* fx_launch execve MODE under our session with LD_PRELOAD=`preload` as
 * given (ts_spawn would overwrite it), waited for; *line is its child's
 * report.  Started by hand: the shim never goes into this worker's own
 * environment (its cleanup's children would load it and each create a
 * session). */
static inline pid_t shx_launch_preloading(const char *mode, const char *preload, struct shx_line *line)
{
    const char *out = shx_tmp("out");
    char *argv[] = {(char *)ts_build("fixtures/fx_launch"), "execve", (char *)mode, (char *)out, NULL};
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        setenv("LD_PRELOAD", preload, 1);
        setenv("CHROMEREAPER_SESSION", shx.id, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    shx_track(pid);
    shx_assert_exit0(shx_wait(pid, 60), "fx_launch execve");
    cr_assert_eq(shx_read_lines(out, line, 1), 1);
    return pid;
}

#endif
