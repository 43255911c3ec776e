#include "reap_dirs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dirpolicy.h"
#include "dirseen.h"
#include "dirsize.h"
#include "dirusers.h"
#include "rmtree.h"
#include "rounds.h"
#include "safestr.h"
#include "session.h"

/* $TMPDIR, /tmp, /dev/shm, compared by components; rmtree_checked then
 * resolves the path without following symlinks, so the directory really is
 * where its path says. */
static int in_temp_dir(const char *path)
{
    const char *tmpdir = getenv("TMPDIR");
    return rmtree_path_below(path, "/tmp") || rmtree_path_below(path, "/dev/shm") ||
           (tmpdir && rmtree_path_below(path, tmpdir));
}

/* A start time (clock ticks after boot, suspend included) on the wall
 * clock, as a creation time would say it. */
static int ticks_on_wall_clock(uint64_t ticks, struct statx_timestamp *out)
{
    struct timespec real, boot;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0 || clock_gettime(CLOCK_REALTIME, &real) < 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
        return 0;
    int64_t ns = ((int64_t)real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec) +
                 (int64_t)(ticks / (uint64_t)hz) * 1000000000LL +
                 (int64_t)(ticks % (uint64_t)hz) * (1000000000LL / hz);
    out->tv_sec = ns / 1000000000LL;
    out->tv_nsec = (uint32_t)(ns % 1000000000LL);
    return 1;
}

static int not_before(int64_t sec, uint32_t nsec, const struct statx_timestamp *t)
{
    return sec > t->tv_sec || (sec == t->tv_sec && nsec >= t->tv_nsec);
}

/* When the session began: the creation time of its registry file, which
 * no record can change, or the earlier start the caller took from the
 * kernel (`began_ticks`: a launcher's, see reap_options).  0 if neither is
 * known. */
static int session_birth(const struct session *s, uint64_t began_ticks, struct statx_timestamp *out)
{
    char path[128];
    struct statx sx;
    struct statx_timestamp began;
    int have = registry_path(path, sizeof path, s->uid, s->id) == 0 &&
               statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) == 0 &&
               (sx.stx_mask & STATX_BTIME);
    if (have)
        *out = sx.stx_btime;
    if (began_ticks && ticks_on_wall_clock(began_ticks, &began) &&
        (!have || !not_before(began.tv_sec, began.tv_nsec, out))) {
        *out = began;
        have = 1;
    }
    return have;
}

/* When the round being reaped began: its root's start (clock ticks after
 * boot), and the wall clock at boot to compare creation times with.  0
 * unless the monitor saw that root alive with that start time (else the
 * start is only a record's claim). */
static int round_began(const struct reap_dirs_in *in, uint64_t *start_ticks, int64_t *boot_wall_ns)
{
    struct timespec real, boot;
    if (!in->opt->round || !in->opt->round_root_seen || clock_gettime(CLOCK_REALTIME, &real) < 0 ||
        clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
        return 0;
    *start_ticks = in->opt->round->root->key.start_time;
    *boot_wall_ns = ((int64_t)real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec);
    return 1;
}

/* One directory on its way through the policy. */
struct dir_case {
    const struct tracked_dir *d;
    struct dir_result *out;
    struct dir_facts f;
    uint64_t dev, ino; /* the identity it is removed by */
    int settled_by_check; /* rmtree_check already said why it stays */
};

/* Gathers the kernel's facts about c->d.  What rmtree would refuse anyway
 * (nothing there, a symlink, another inode than recorded, another owner, a
 * mount point, a shared directory) is reported as rmtree_check says. */
/* When the round being reaped began, if known (round_began). */
struct round_start {
    int known;
    uint64_t ticks;
    int64_t boot_wall_ns;
};

static void gather_facts(const struct reap_dirs_in *in, int have_birth, struct statx_timestamp birth,
                         const struct round_start *round, struct dir_case *c)
{
    const struct tracked_dir *d = c->d;
    struct rmtree_stat st;
    enum rmtree_result rr = rmtree_check(d->path, d->have_identity, d->dev, d->ino, in->s->uid,
                                         c->out->why, sizeof c->out->why);
    if (rr == RMTREE_REMOVED && rmtree_stat(d->path, &st) < 0) {
        rr = RMTREE_MISMATCH;
        cr_strlcpy(c->out->why, "changed while the reaper looked at it", sizeof c->out->why);
    }
    if (rr != RMTREE_REMOVED) {
        c->out->action = rr == RMTREE_ABSENT ? DIR_ABSENT : rr == RMTREE_FAILED ? DIR_FAILED : DIR_KEPT;
        c->settled_by_check = 1;
        return;
    }
    struct dir_facts *f = &c->f;
    c->dev = st.dev;
    c->ino = st.ino;
    f->identity = d->have_identity;
    if (!f->identity) {
        /* absent at launch: the identity the browser was seen using */
        const struct seen_dir *sd = dirseen_at(in->seen, d->path);
        if (!sd)
            sd = dirseen_at(in->opt->seen, d->path);
        f->identity = sd && sd->dev == st.dev && sd->ino == st.ino;
    }
    f->birth_known = have_birth && st.have_birth;
    f->born_in_session = f->birth_known && (st.birth_sec > birth.tv_sec ||
                                            (st.birth_sec == birth.tv_sec && st.birth_nsec > birth.tv_nsec));
    f->in_temp_dir = in_temp_dir(d->path);
    f->given_to_browser = dirseen_has(in->seen, st.dev, st.ino) || dirseen_has(in->opt->seen, st.dev, st.ino);
    f->known_name = temp_name_known(d->path);
    f->round_reap = in->opt->round != NULL;
    /* a record's claim that a round's process made it counts only for a
     * directory made after that round began */
    f->made_by_round = d->from_mkdtemp && round->known && st.have_birth &&
                       dir_born_after_start((int64_t)st.birth_sec * 1000000000LL + st.birth_nsec,
                                            round->ticks, sysconf(_SC_CLK_TCK), round->boot_wall_ns);
}

/* The processes being reaped use their profiles: they are not users. */
static void find_users(const struct reap_dirs_in *in, struct dir_case *cases, size_t n)
{
    const char **paths = calloc(n ? n : 1, sizeof *paths);
    size_t *which = calloc(n ? n : 1, sizeof *which);
    pid_t *used = calloc(n ? n : 1, sizeof *used);
    if (!paths || !which || !used)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        enum dir_verdict v = cases[i].settled_by_check ? DIR_KEEP_IN_USE : dir_policy(&cases[i].f);
        if (v == DIR_REMOVE || v == DIR_KEEP_UNTIL_SESSION_ENDS) {
            which[k] = i;
            paths[k++] = cases[i].d->path;
        }
    }
    if (k)
        dir_users_scan(paths, k, used, in->reaped, in->nreaped);
    for (size_t i = 0; i < k; i++)
        cases[which[i]].f.used_by = used[i];
    free(paths);
    free(which);
    free(used);
}

static void decide_and_remove(const struct reap_dirs_in *in, struct dir_case *c, int blocked)
{
    struct dir_result *out = c->out;
    if (c->settled_by_check)
        return;
    enum dir_verdict v = dir_policy(&c->f);
    if (v != DIR_REMOVE) {
        out->action = DIR_KEPT;
        out->again = v == DIR_KEEP_IN_USE || v == DIR_KEEP_UNTIL_SESSION_ENDS;
        if (v == DIR_KEEP_IN_USE)
            snprintf(out->why, sizeof out->why, "in use by pid %d", (int)c->f.used_by);
        else
            cr_strlcpy(out->why, dir_verdict_why(v), sizeof out->why);
        return;
    }
    if (blocked) {
        out->action = DIR_KEPT;
        out->again = 1;
        cr_strlcpy(out->why, "processes of the session survived", sizeof out->why);
        return;
    }
    const char *path = c->d->path;
    uint64_t bytes = in->opt->dry_run ? 0 : dir_usage(path);
    enum rmtree_result rr =
        in->opt->dry_run ? rmtree_check(path, 1, c->dev, c->ino, in->s->uid, out->why, sizeof out->why)
                        : rmtree_checked(path, 1, c->dev, c->ino, in->s->uid, out->why, sizeof out->why);
    if (rr == RMTREE_REMOVED)
        out->bytes = bytes;
    switch (rr) {
    case RMTREE_REMOVED: out->action = in->opt->dry_run ? DIR_PLANNED : DIR_REMOVED; break;
    case RMTREE_ABSENT: out->action = DIR_ABSENT; break;
    case RMTREE_MISMATCH: out->action = DIR_KEPT; break;
    case RMTREE_FAILED: out->action = DIR_FAILED; break;
    }
}

/* The session's directories, through dirpolicy.h's rule, with the rights
 * this process has. */
static void handle_dirs(const struct reap_dirs_in *in, struct tracked_dir **dirs, size_t n,
                        struct dir_result *out)
{
    struct dir_case *cases = calloc(n ? n : 1, sizeof *cases);
    if (!cases)
        abort();
    struct statx_timestamp birth = {0};
    int have_birth = session_birth(in->s, in->opt->began_ticks, &birth);
    struct round_start round = {0};
    round.known = round_began(in, &round.ticks, &round.boot_wall_ns);
    for (size_t i = 0; i < n; i++) {
        struct dir_case *c = &cases[i];
        c->d = dirs[i];
        c->out = &out[i];
        cr_strlcpy(c->out->path, c->d->path, sizeof c->out->path);
        c->out->origin = c->d->from_mkdtemp ? "mkdtemp" : "user-data-dir";
        gather_facts(in, have_birth, birth, &round, c);
    }
    find_users(in, cases, n);
    for (size_t i = 0; i < n; i++)
        decide_and_remove(in, &cases[i], in->blocked);
    free(cases);
}

/* Becomes `uid` for good: its groups (from the password database; a uid
 * without an entry gets none but `fallback_gid`), then gid, then uid.
 * 0 on success. */
static int become(uid_t uid, gid_t fallback_gid)
{
    struct passwd *pw = getpwuid(uid);
    gid_t gid = pw ? pw->pw_gid : fallback_gid;
    if ((pw ? initgroups(pw->pw_name, gid) : setgroups(0, NULL)) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0)
        return -1;
    return geteuid() == uid && getegid() == gid ? 0 : -1;
}

static void all_failed(struct tracked_dir **dirs, size_t n, struct dir_result *out, const char *why)
{
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        cr_strlcpy(out[i].path, dirs[i]->path, sizeof out[i].path);
        out[i].origin = dirs[i]->from_mkdtemp ? "mkdtemp" : "user-data-dir";
        out[i].action = DIR_FAILED;
        cr_strlcpy(out[i].why, why, sizeof out[i].why);
    }
}

static int read_all(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, (char *)buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    size_t put = 0;
    while (put < len) {
        ssize_t w = write(fd, (const char *)buf + put, len - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        put += (size_t)w;
    }
    return 0;
}

/* Root reaping another uid's session: the whole directory half runs in a
 * child that is that uid (results come back through a pipe; `origin`
 * points into this same program's constants). */
static void handle_dirs_as(uid_t uid, const struct reap_dirs_in *in, struct tracked_dir **dirs, size_t n,
                           struct dir_result *out)
{
    char path[128];
    struct stat rs;
    /* for a uid without a password entry: the group its registry was made
     * with, never root's */
    gid_t gid = registry_path(path, sizeof path, in->s->uid, in->s->id) == 0 && stat(path, &rs) == 0 &&
                        rs.st_gid != 0 ? rs.st_gid : (gid_t)65534;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        all_failed(dirs, n, out, "cannot take the session uid's rights: pipe failed");
        return;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        if (become(uid, gid) < 0)
            _exit(1);
        handle_dirs(in, dirs, n, out);
        _exit(write_all(fds[1], out, n * sizeof *out) == 0 ? 0 : 1);
    }
    close(fds[1]);
    int ok = child > 0 && read_all(fds[0], out, n * sizeof *out) == 0;
    close(fds[0]);
    int status = 0;
    while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char why[96];
        snprintf(why, sizeof why, "could not act as uid %u on it", (unsigned)uid);
        all_failed(dirs, n, out, why);
    }
}

void reap_dirs(const struct reap_dirs_in *in, struct tracked_dir **dirs, size_t n, struct dir_result *out)
{
    if (n && geteuid() == 0 && in->s->uid != 0)
        handle_dirs_as((uid_t)in->s->uid, in, dirs, n, out);
    else
        handle_dirs(in, dirs, n, out);
}
