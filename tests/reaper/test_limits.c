/* The reaper under exhaustion: an open-file limit too small to pin every
 * process with a pidfd must not make a process count as gone. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#define TREE 1000

static char session[64], outdir[256];
static pid_t pids[TREE];
static int npids;

static void setup(void)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    registry_close(&reg);
    ts_session_remove(session); /* bench_tree makes its own */
    ts_tmpdir(outdir, sizeof outdir, "limits");
    npids = 0;
}

static void teardown(void)
{
    for (int i = 0; i < npids; i++)
        ts_kill(pids[i], SIGKILL);
    ts_kill_session(session);
    ts_session_remove(session);
    ts_rm_rf(outdir);
}

TestSuite(limits, .init = setup, .fini = teardown, .timeout = 300);

/* 1,000 processes, 64 open files at most (soft and hard): every process is
 * dead after the reap, or every survivor is listed and the exit is 1. */
Test(limits, a_tree_larger_than_the_open_file_limit_is_reaped_or_reported)
{
    char pidfile[300];
    snprintf(pidfile, sizeof pidfile, "%s/pids", outdir);
    char n[16];
    snprintf(n, sizeof n, "%d", TREE);
    char *tree[] = {(char *)ts_build("fixtures/bench_tree"), "tree", n, session, pidfile,
                    (char *)ts_build("libchromereaper.so"), NULL};
    char log[300];
    snprintf(log, sizeof log, "%s/tree.log", outdir); /* not a pipe: the tree outlives the launcher */
    int st = ts_waitpid(ts_spawn(tree, NULL, log), 120);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "bench_tree: %#x", st);
    npids = ts_read_pids(pidfile, pids, TREE);
    cr_assert_eq(npids, TREE);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "ulimit -n 64 && exec %s reap --session %s --grace 0 --json",
             ts_build("chromereaper"), session);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert(rc == 0 || rc == 1, "exit %d: %.2000s", rc, out);
    /* the dead are reaped by init: allow it a bounded moment */
    int alive = npids;
    for (int wait = 0; wait < 100 && alive; wait++) {
        alive = 0;
        for (int i = 0; i < npids; i++)
            alive += ts_alive(pids[i]);
        if (alive)
            usleep(100000);
    }
    int listed = 0;
    for (int i = 0; i < npids; i++) {
        if (!ts_alive(pids[i]))
            continue;
        char needle[64];
        snprintf(needle, sizeof needle, "\"pid\":%d,", (int)pids[i]);
        const char *row = strstr(out, needle);
        const char *end = row ? strchr(row, '}') : NULL, *survived = row ? strstr(row, "\"survived\"") : NULL;
        listed += row && survived && survived < end;
    }
    cr_expect_eq(listed, alive, "%d of %d processes alive are not reported as survivors", alive - listed, alive);
    cr_expect(alive == 0 || rc == 1, "%d processes alive after an exit %d", alive, rc);
    free(out);
}
