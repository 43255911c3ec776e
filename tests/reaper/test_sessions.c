/* Many sessions on one machine, and reapers racing each other: reaping one
 * session leaves every other intact, `reap --stale` takes exactly those
 * whose root died, and a manual reap racing the watchdog handles each
 * process once.  The twenty sessions run as user nobody so that --stale,
 * which looks at every session of its uid, sees only this test's. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "procfs.h"
#include "registry.h"
#include "support.h"

#define SESSIONS 20
#define NOBODY 65534

struct tree {
    char dir[300];
    pid_t root; /* the shell that is the session's root */
    pid_t pids[8];
    int npids;
    char session[64];
};

static struct tree trees[SESSIONS];
static int ntrees;
static int as_nobody; /* this test's sessions are nobody's: teardown reaps them all */
static char outdir[200];

static void setup(void)
{
    /* orphaned fixture browsers stay below us, where teardown finds them */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    ts_tmpdir(outdir, sizeof outdir, "sessions");
    cr_assert_eq(chmod(outdir, 0755), 0); /* nobody's trees live inside */
    ntrees = 0;
    as_nobody = 0;
}

static void reap_all_as(const char *uid)
{
    char *argv[] = {"/usr/bin/setpriv", "--reuid", (char *)uid, "--regid", (char *)uid, "--clear-groups",
                    (char *)ts_build("chromereaper"), "reap", "--all", "--grace", "0", NULL};
    ts_run(argv, NULL);
}

static void teardown(void)
{
    if (as_nobody)
        reap_all_as("65534");
    for (int t = 0; t < ntrees; t++) {
        for (int i = 0; i < trees[t].npids; i++)
            ts_kill(trees[t].pids[i], SIGKILL);
        if (trees[t].root > 0) {
            ts_kill(trees[t].root, SIGKILL);
            ts_waitpid(trees[t].root, 10);
        }
        if (trees[t].session[0])
            registry_unlink(NOBODY, trees[t].session);
    }
    pid_t left[512];
    int n = ts_descendants(getpid(), left, 512);
    for (int i = 0; i < n; i++)
        ts_kill(left[i], SIGKILL);
    while (waitpid(-1, NULL, WNOHANG) > 0 || (n > 0 && n-- > 0 && usleep(20000) == 0))
        ;
    ts_rm_rf(outdir);
}

/* A shell (root of a new session, no watchdog) running the fixture browser,
 * everything as `uid`. */
static void start_tree(struct tree *t, const char *uid, int watchdog)
{
    snprintf(t->dir, sizeof t->dir, "%s/t%d", outdir, (int)(t - trees));
    cr_assert_eq(mkdir(t->dir, 0755), 0);
    if (strcmp(uid, "0") != 0)
        cr_assert_eq(chown(t->dir, NOBODY, NOBODY), 0);
    char script[1200];
    snprintf(script, sizeof script, "%s browser %s & wait", ts_build("fixtures/fake_chromium"), t->dir);
    /* the library is loaded only after the uid change: a process that
     * changes uid cannot open its session's registry (it is the old uid's) */
    char preload[600];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", ts_build("libchromereaper.so"));
    char *argv[] = {"/usr/bin/setpriv", "--reuid", (char *)uid, "--regid", (char *)uid, "--clear-groups",
                    "/usr/bin/env", preload, watchdog ? "CHROMEREAPER_WATCHDOG=1" : "CHROMEREAPER_WATCHDOG=0",
                    "/bin/sh", "-c", script, NULL};
    t->root = ts_spawn(argv, NULL, NULL);
}

static void await_tree(struct tree *t, uint32_t uid)
{
    char ready[400], pidfile[400];
    snprintf(ready, sizeof ready, "%s/ready", t->dir);
    snprintf(pidfile, sizeof pidfile, "%s/pids", t->dir);
    cr_assert_eq(ts_wait_file(ready, 60), 0, "tree %s never got ready", t->dir);
    t->npids = ts_read_pids(pidfile, t->pids, 8);
    cr_assert_eq(t->npids, 5);
    /* the registry of a session names its root: find ours */
    char num[16];
    snprintf(num, sizeof num, "%u", uid);
    char *largv[] = {(char *)ts_build("chromereaper"), "ls", "--uid", num, "--json", NULL};
    char *out = NULL;
    ts_run(largv, &out);
    char needle[64];
    snprintf(needle, sizeof needle, "\"root_pid\":%d,", (int)t->root);
    char *hit = out ? strstr(out, needle) : NULL;
    cr_assert_not_null(hit, "no session with root %d: %s", (int)t->root, out);
    char *start = hit;
    while (start > out && strncmp(start, "{\"session\":\"", 12) != 0)
        start--;
    start += 12;
    snprintf(t->session, sizeof t->session, "%.*s", (int)(strchr(start, '"') - start), start);
    free(out);
}

static int tree_alive(const struct tree *t)
{
    for (int i = 0; i < t->npids; i++)
        if (!ts_alive(t->pids[i])) {
            struct proc_stat st;
            int gone = proc_stat_read(t->pids[i], &st) < 0;
            cr_log_warn("tree %s: pid %d (#%d) %s", t->dir, (int)t->pids[i], i,
                        gone ? "is gone" : "is a zombie");
            return 0;
        }
    return 1;
}

static int tree_gone(const struct tree *t)
{
    for (int i = 0; i < t->npids; i++)
        if (ts_alive(t->pids[i]))
            return 0;
    return 1;
}

static int run_as(const char *uid, char **extra, char **out)
{
    char *argv[16] = {"/usr/bin/setpriv", "--reuid", (char *)uid, "--regid", (char *)uid,
                      "--clear-groups", (char *)ts_build("chromereaper")};
    int n = 7;
    for (int i = 0; extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return ts_run(argv, out);
}

TestSuite(sessions, .init = setup, .fini = teardown, .timeout = 300);

Test(sessions, twenty_sessions_reaped_one_by_one_and_by_staleness)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to run the sessions as user nobody");
    as_nobody = 1;
    for (ntrees = 0; ntrees < SESSIONS; ntrees++)
        start_tree(&trees[ntrees], "65534", 0);
    for (int t = 0; t < SESSIONS; t++)
        await_tree(&trees[t], NOBODY);

    /* one session reaped by id: the nineteen others are intact */
    char *out = NULL;
    char *one[] = {"reap", "--session", trees[0].session, "--grace", "0.2", NULL};
    int rc = run_as("65534", one, &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert(tree_gone(&trees[0]), "session 0 was not reaped");
    for (int t = 1; t < SESSIONS; t++)
        cr_assert(tree_alive(&trees[t]), "reaping session 0 hurt session %d", t);

    /* the roots of sessions 1-9 die; their browsers live on, orphaned */
    for (int t = 1; t < 10; t++) {
        ts_kill(trees[t].root, SIGKILL);
        ts_waitpid(trees[t].root, 10);
        trees[t].root = -1;
    }
    char *stale[] = {"reap", "--stale", "--grace", "0.2", "--json", NULL};
    rc = run_as("65534", stale, &out);
    cr_assert_eq(rc, 0, "%s", out);
    for (int t = 10; t < SESSIONS; t++)
        if (!tree_alive(&trees[t]))
            cr_log_warn("tree %d (session %s, pids %d %d %d %d %d): %s", t, trees[t].session, trees[t].pids[0],
                        trees[t].pids[1], trees[t].pids[2], trees[t].pids[3], trees[t].pids[4], out);
    free(out);
    for (int t = 1; t < 10; t++)
        cr_assert(tree_gone(&trees[t]), "stale session %d was not reaped", t);
    for (int t = 10; t < SESSIONS; t++)
        cr_assert(tree_alive(&trees[t]), "--stale reaped session %d, whose root is alive", t);

    /* root may reap another uid's session when it names the uid */
    char *as_root[] = {(char *)ts_build("chromereaper"), "reap", "--uid", "65534", "--session",
                       trees[10].session, "--grace", "0.2", NULL};
    rc = ts_run(as_root, &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert(tree_gone(&trees[10]));
    for (int t = 11; t < SESSIONS; t++)
        cr_assert(tree_alive(&trees[t]), "session %d was hurt", t);
}

/* The root dies; its watchdog and a manual reap race for the session. */
Test(sessions, a_manual_reap_racing_the_watchdog)
{
    start_tree(&trees[0], "0", 1);
    ntrees = 1;
    await_tree(&trees[0], 0);
    char session[64];
    snprintf(session, sizeof session, "%s", trees[0].session);
    trees[0].session[0] = '\0';
    char log[300];
    snprintf(log, sizeof log, "%s/reap.json", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0.3",
                    "--json", NULL};
    ts_kill(trees[0].root, SIGKILL);
    pid_t r = ts_spawn(argv, NULL, log);
    ts_waitpid(trees[0].root, 10);
    trees[0].root = -1;
    int st = ts_waitpid(r, 60);
    char *text = ts_slurp(log);
    /* whoever got there first reaped it; the other found it reaped or gone */
    cr_assert(st != -1 && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3),
              "%#x %s", st, text);
    if (WEXITSTATUS(st) == 3)
        cr_assert(strstr(text, "no registry"), "%s", text);
    for (int i = 0; i < 100 && !tree_gone(&trees[0]); i++)
        usleep(100000);
    cr_assert(tree_gone(&trees[0]), "%s", text);
    struct stat sb;
    char shm[128];
    registry_path(shm, sizeof shm, 0, session);
    for (int i = 0; i < 100 && stat(shm, &sb) == 0; i++)
        usleep(100000);
    cr_assert_neq(stat(shm, &sb), 0, "the registry outlived both reapers");
    free(text);
}

/* Sessions that are being made while `ls` lists every session: a registry
 * is listed whole or not at all.  Today its file got its name before its
 * header was written, and a listing in that moment called it corrupt
 * ("bad magic") and exited 3. */
Test(sessions, a_listing_never_sees_a_registry_half_made)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "crtest-making-%d-", (int)getpid());
    pid_t maker = fork();
    cr_assert_geq(maker, 0);
    if (maker == 0) {
        for (int i = 0; i < 100000; i++) {
            char id[80];
            snprintf(id, sizeof id, "%s%d", prefix, i);
            struct cr_registry reg;
            if (registry_create(&reg, id, CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT) != CR_REG_OK)
                _exit(1);
            registry_close(&reg);
            registry_unlink((uint32_t)getuid(), id);
        }
        _exit(0);
    }
    ts_remember(maker);
    char *argv[] = {(char *)ts_build("chromereaper"), "ls", NULL};
    int half_made = 0;
    char *seen = NULL;
    for (int i = 0; i < 300 && !half_made; i++) {
        char *out = NULL;
        ts_run(argv, &out);
        /* other suites' hostile registries may be reported too: only ours count */
        char error[100];
        snprintf(error, sizeof error, "chromereaper: session %s", prefix);
        if (out && strstr(out, error)) {
            half_made = 1;
            seen = out;
        } else {
            free(out);
        }
    }
    ts_kill(maker, SIGKILL);
    ts_waitpid(maker, 10);
    /* the one it was making when killed */
    char name[96];
    snprintf(name, sizeof name, "%s%u-%s", CR_REGISTRY_PREFIX, (unsigned)getuid(), prefix);
    DIR *shm = opendir(CR_REGISTRY_DIR);
    for (struct dirent *de; shm && (de = readdir(shm)) != NULL;)
        if (strncmp(de->d_name, name, strlen(name)) == 0)
            unlinkat(dirfd(shm), de->d_name, 0);
    if (shm)
        closedir(shm);
    cr_assert_not(half_made, "a listing reported a registry being made: %s", seen);
    free(seen);
}
