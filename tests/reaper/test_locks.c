/* Registries the reaper cannot trust to behave: another uid's file planted
 * under our name, one of the wrong mode, one whose lock somebody holds.  A
 * sweep skips what is not ours and goes on; a lock holder of our own uid
 * makes a reap wait a bounded time, never forever. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

#define MAX_FILES 8

static char files[MAX_FILES][128];
static int nfiles, locks[MAX_FILES];
static pid_t holder = -1;

static void teardown(void)
{
    if (holder > 0) {
        ts_kill(holder, SIGKILL);
        ts_waitpid(holder, 10);
        holder = -1;
    }
    for (int i = 0; i < nfiles; i++) {
        if (locks[i] >= 0)
            close(locks[i]);
        unlink(files[i]);
    }
    nfiles = 0;
}

TestSuite(locks, .fini = teardown, .timeout = 120);

/* /dev/shm/chromereaper-<uid>-<id>, owned by `owner`, of `mode`, held
 * locked by this process when `locked`. */
static void plant(uint32_t uid, const char *id, uid_t owner, mode_t mode, int locked)
{
    cr_assert_lt(nfiles, MAX_FILES);
    char *path = files[nfiles];
    cr_assert_eq(registry_path(path, sizeof files[0], uid, id), 0);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(ftruncate(fd, 4096), 0);
    cr_assert_eq(fchown(fd, owner, owner), 0, "%s", strerror(errno));
    cr_assert_eq(fchmod(fd, mode), 0);
    if (locked)
        cr_assert_eq(flock(fd, LOCK_EX), 0);
    locks[nfiles++] = fd;
}

/* A valid, stale, empty session of `uid` (made by us, then given away). */
static void good_session(uint32_t uid, char *id, size_t len)
{
    snprintf(id, len, "crtest-locks-good-%d", (int)getpid());
    struct cr_registry reg;
    registry_unlink(uid, id);
    cr_assert_eq(registry_create(&reg, id, 64, 4), CR_REG_OK);
    reg.hdr->owner_uid = uid;
    reg.hdr->created_unix = (uint64_t)time(NULL) - 3600; /* no root, an hour old: stale */
    registry_close(&reg);
    char path[128];
    cr_assert_eq(registry_path(path, sizeof path, (uint32_t)getuid(), id), 0);
    char to[128];
    cr_assert_eq(registry_path(to, sizeof to, uid, id), 0);
    if (strcmp(path, to) != 0)
        cr_assert_eq(rename(path, to), 0, "%s", strerror(errno));
    cr_assert_eq(chown(to, uid, uid), 0);
    cr_assert_lt(nfiles, MAX_FILES);
    snprintf(files[nfiles], sizeof files[0], "%s", to);
    locks[nfiles++] = -1;
}

static void sweep(const char *mode, int locked)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to plant files of other uids");
    uint32_t uid = 3000000000u + (uint32_t)getpid() % 100000u; /* a uid of its own: no other test's sessions */
    char good[64], other[64], loose[64];
    good_session(uid, good, sizeof good);
    snprintf(other, sizeof other, "crtest-locks-planted-%d", (int)getpid());
    snprintf(loose, sizeof loose, "crtest-locks-loose-%d", (int)getpid());
    plant(uid, other, 65534, 0600, locked); /* another user's file under our name */
    plant(uid, loose, uid, 0644, locked);   /* ours, but readable by everyone */
    char num[16];
    snprintf(num, sizeof num, "%u", uid);
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", (char *)mode, "--uid", num, "--grace", "0", NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_expect_eq(rc, 0, "the sweep gave up (exit %d): %s", rc, out);
    char want[200];
    snprintf(want, sizeof want, "chromereaper: session %s: skipped: ", other);
    cr_expect(strstr(out, want), "no \"%s\" line: %s", want, out);
    snprintf(want, sizeof want, "chromereaper: session %s: skipped: ", loose);
    cr_expect(strstr(out, want), "no \"%s\" line: %s", want, out);
    struct stat st;
    cr_expect_neq(stat(files[0], &st), 0, "the good session was not reaped: %s", out);
    cr_expect_eq(stat(files[1], &st), 0, "the planted file was removed");
    free(out);
}

Test(locks, a_locked_registry_of_another_uid_or_mode_never_hangs_a_stale_sweep) { sweep("--stale", 1); }
Test(locks, a_locked_registry_of_another_uid_or_mode_never_hangs_an_all_sweep) { sweep("--all", 1); }
Test(locks, a_registry_of_another_uid_or_mode_is_skipped_by_a_sweep) { sweep("--stale", 0); }

/* Our own uid holds the lock and never lets go: reap waits a bounded time
 * and says so, with its own exit status (4). */
Test(locks, a_lock_held_by_our_uid_makes_reap_wait_then_exit_busy)
{
    char id[64];
    struct cr_registry reg;
    ts_session_create(id, sizeof id, &reg);
    registry_close(&reg);
    cr_assert_lt(nfiles, MAX_FILES);
    cr_assert_eq(registry_path(files[nfiles], sizeof files[0], (uint32_t)getuid(), id), 0);
    int fd = open(files[nfiles], O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    locks[nfiles++] = fd;
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", id, "--grace", "0", NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_expect_eq(rc, 4, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "locked by another process"), "%s", out);
    free(out);
}

/* A process of the session locks the registry and keeps it: `run` still
 * ends (by cookie and descent) with its command's status. */
Test(locks, a_registry_locked_under_run_never_hangs_it)
{
    char script[512];
    snprintf(script, sizeof script,
             /* the holder is one process (the subshell become sleep, the lock on its
              * fd 9): the teardown's kill of it releases the lock */
             "( exec 9<\"/dev/shm/chromereaper-%u-$CHROMEREAPER_SESSION\" </dev/null >/dev/null 2>&1;"
             " flock 9; exec sleep 600 ) &"
             " echo $! > /dev/shm/crtest-locks-holder-%d; sleep 1; exit 5",
             (unsigned)getuid(), (int)getpid());
    char id[64];
    snprintf(id, sizeof id, "crtest-locks-run-%d", (int)getpid());
    /* run cannot remove a registry that stays locked: the teardown does */
    cr_assert_eq(registry_path(files[nfiles], sizeof files[nfiles], (uint32_t)getuid(), id), 0);
    locks[nfiles++] = -1;
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", id, "--grace", "0", "--", "/bin/sh", "-c",
                    script, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    char pidfile[128];
    snprintf(pidfile, sizeof pidfile, "/dev/shm/crtest-locks-holder-%d", (int)getpid());
    pid_t p[1];
    if (ts_read_pids(pidfile, p, 1) == 1)
        holder = p[0];
    unlink(pidfile);
    cr_expect_eq(rc, 5, "exit %d: %s", rc, out);
    free(out);
}

/* Another user squats the session name `run` is told to use. */
Test(locks, a_squatted_session_name_never_hangs_run)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to plant another uid's file");
    char id[64];
    snprintf(id, sizeof id, "crtest-locks-squat-%d", (int)getpid());
    plant((uint32_t)getuid(), id, 65534, 0600, 1);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", id, "--", "/bin/true", NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "exists already"), "%s", out);
    free(out);
}
