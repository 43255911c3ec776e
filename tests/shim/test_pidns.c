/* PID namespaces: what the shim records inside one, and how lib/procfs maps
 * such a record back to the pid /proc shows.
 *
 * Chrome's sandboxed zygote is pid 1 of a PID namespace of its own; the
 * pids it hands out mean nothing to /proc.  The shim records its own pid as
 * /proc sees it while it can read /proc, and a child's namespace-local pid
 * flagged CR_ENTRY_PIDNS (with its creator's local pid as ppid and no start
 * time), never as a /proc pid.  proc_nslocal_match() finds the live process
 * such a record names. */
#include <sched.h>
#include <sys/prctl.h>

#include "procfs.h"
#include "shim_test.h"

/* A is pid 1 of a new PID namespace (made with clone(CLONE_NEWPID), as
 * Chromium does); it forks B (pid 2 there) and reports both host pids. */
static pid_t ns_a = -1, ns_b = -1;

static int ns_init(void *arg)
{
    int fd = *(int *)arg;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pid_t b = fork();
    if (b == 0) {
        for (;;)
            pause();
    }
    /* host pids, from /proc (the host's mount) */
    struct proc_stat self;
    pid_t pair[2] = {proc_stat_read(0, &self) == 0 ? self.pid : -1, b};
    if (write(fd, pair, sizeof pair) != (ssize_t)sizeof pair)
        _exit(1);
    for (;;)
        pause();
}

static void ns_start(void)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    static char stack[64 * 1024];
    pid_t a = clone(ns_init, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, &fds[1]);
    if (a < 0) {
        close(fds[0]);
        close(fds[1]);
        cr_skip_test("cannot create a PID namespace here: %s", strerror(errno));
    }
    ns_a = a;
    close(fds[1]);
    pid_t pair[2];
    cr_assert_eq(read(fds[0], pair, sizeof pair), (ssize_t)sizeof pair);
    close(fds[0]);
    cr_assert_eq(pair[0], a, "A's /proc/self/stat names %d, clone() said %d", pair[0], a);
    cr_assert_eq(pair[1], 2, "B is pid %d in the namespace", pair[1]);
    /* B's host pid: A's only child */
    pid_t kids[4];
    cr_assert_eq(ts_descendants(a, kids, 4), 1);
    ns_b = kids[0];
}

static void ns_fini(void)
{
    if (ns_a > 0) {
        kill(ns_a, SIGKILL); /* takes the namespace with it */
        waitpid(ns_a, NULL, 0);
    }
    if (ns_b > 0)
        ts_wait_gone(ns_b, 10);
    ns_a = ns_b = -1;
}

Test(procfs_pidns, nspid_chain_and_mapping, .fini = ns_fini)
{
    pid_t chain[8];
    int levels = proc_nspid_read(0, chain, 8);
    if (levels == 0)
        cr_skip_test("kernel without NSpid");
    cr_assert_eq(levels, 1, "this test runs in /proc's own namespace");
    cr_expect_eq(chain[0], getpid());
    cr_expect_eq(proc_in_nested_pidns(0), 0);

    ns_start();
    cr_assert_eq(proc_nspid_read(ns_a, chain, 8), 2);
    cr_expect_eq(chain[0], ns_a);
    cr_expect_eq(chain[1], 1);
    cr_assert_eq(proc_nspid_read(ns_b, chain, 8), 2);
    cr_expect_eq(chain[0], ns_b);
    cr_expect_eq(chain[1], 2);
    cr_expect_eq(proc_nspid_read(ns_b, chain, 1), 2, "the level count does not depend on max");
    cr_expect_eq(proc_in_nested_pidns(ns_b), 1);
    struct proc_stat st;
    cr_assert_eq(proc_stat_read(ns_b, &st), 0);
    cr_expect_eq(st.pid, ns_b, "field 1 is /proc's view");
    cr_expect_eq(st.ppid, ns_a);

    /* A calls B "2" and itself "1": that record maps to B */
    cr_expect_eq(proc_nslocal_match(ns_b, ns_a, 2, 1), 1);
    cr_expect_eq(proc_nslocal_match(ns_b, ns_a, 3, 1), 0, "another local pid");
    cr_expect_eq(proc_nslocal_match(ns_b, ns_a, 2, 7), 0, "another local parent");
    /* level 0 is /proc's own view, never namespace-local */
    cr_expect_eq(proc_nslocal_match(ns_b, ns_a, ns_b, ns_a), 0);
    /* A's parent (us) has no nested level */
    cr_expect_eq(proc_nslocal_match(ns_a, getpid(), 1, 0), 0);
    cr_expect_eq(proc_nslocal_match(ns_b, 0x7ffffff0, 2, 1), -1, "unreadable parent");
}

/* The fixture's namespace init (pid 1 there) forks two children under the
 * shim: one execs (its constructor records its /proc pid), one does not
 * (its creator's record is namespace-local).  Neither may pass for a /proc
 * pid, and the local record maps to the right process. */
/* shx_fini, then collect the orphans this subreaper adopted (bounded) */
static void pidns_fini(void)
{
    shx_fini();
    for (int i = 0; i < 500 && !(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD); i++)
        usleep(20 * 1000);
}

Test(shim_pidns, records_in_a_pid_namespace, .init = shx_init, .fini = pidns_fini)
{
    shx_session();
    shx_tmpdir();
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    const char *chromium = shx_tmp("chromium");
    cr_assert_eq(link(ts_build("fixtures/fx_path_clone_newpid"), chromium), 0);
    char out_arg[600];
    snprintf(out_arg, sizeof out_arg, "--fx-out=%s", shx_tmp("out"));
    char *argv[] = {(char *)chromium, out_arg, NULL};
    pid_t launcher = shx_spawn(argv, shx.id, NULL);
    int st = shx_wait(launcher, 60);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        cr_skip_test("cannot create a PID namespace here");
    /* the namespace init is the launcher's only child: killing it ends
     * the namespace; shx_fini finds it by its cookie */
    shx_assert_exit0(st, "fx_path_clone_newpid");

    char *text = ts_slurp(shx_tmp("out"));
    cr_assert_not_null(text);
    int init = 0, exec_child = 0, fork_child = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        int pid;
        char tag[64];
        if (sscanf(l, "%d %63s", &pid, tag) != 2)
            continue;
        if (strcmp(tag, "pidns_init") == 0)
            init = pid;
        else if (strcmp(tag, "pidns_exec") == 0)
            exec_child = pid;
        else if (strcmp(tag, "pidns_fork") == 0)
            fork_child = pid;
    }
    free(text);
    cr_assert(init > 0 && exec_child > 0 && fork_child > 0, "missing reports");

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    struct proc_stat init_st, exec_st;
    cr_assert_eq(proc_stat_read(init, &init_st), 0);
    cr_assert_eq(proc_stat_read(exec_child, &exec_st), 0);
    struct cr_entry e;
    memset(&e, 0, sizeof e);
    /* the launcher's clone(CLONE_NEWPID): a /proc pid, from outside */
    cr_expect_eq(shx_count(&es, init, launcher, CR_SEEN_FORK, &e), 1, "the namespace init's creation");
    cr_expect_eq(e.start_time, init_st.start_time);
    cr_expect_eq(e.flags & CR_ENTRY_PIDNS, 0u);
    /* the exec'd child recorded itself by its /proc pid, from inside */
    cr_expect_eq(shx_count(&es, exec_child, init, CR_SEEN_CONSTRUCTOR, &e), 1,
                 "the exec'd child's own record");
    cr_expect_eq(e.start_time, exec_st.start_time);
    cr_expect_eq(e.flags & CR_ENTRY_PIDNS, 0u);
    /* the namespace init's two forks: local pids 2 and 3, flagged, no
     * start time, and each maps to one of the reported children */
    int flagged = 0, mapped_exec = 0, mapped_fork = 0;
    for (int i = 0; i < es.n; i++) {
        if (!(es.e[i].flags & CR_ENTRY_PIDNS))
            continue;
        flagged++;
        cr_expect_eq(es.e[i].seen_by, (uint32_t)CR_SEEN_FORK);
        cr_expect_eq(es.e[i].ppid, 1, "the creator's namespace-local pid");
        cr_expect_eq(es.e[i].start_time, 0u, "a start time read from another process's /proc entry");
        cr_expect(es.e[i].pid == 2 || es.e[i].pid == 3, "local pid %d", es.e[i].pid);
        mapped_exec += proc_nslocal_match(exec_child, init, es.e[i].pid, es.e[i].ppid) == 1;
        mapped_fork += proc_nslocal_match(fork_child, init, es.e[i].pid, es.e[i].ppid) == 1;
    }
    cr_expect_eq(flagged, 2, "%d namespace-local records", flagged);
    cr_expect_eq(mapped_exec, 1, "the exec'd child is named by one local record");
    cr_expect_eq(mapped_fork, 1, "the forked child is named by one local record");
    free(es.e);

    /* ls folds the local record into the live row it names: the forked
     * child, which only that record knows, is listed as known to the
     * registry, with its namespace pid; no row claims a local pid */
    char *argv_ls[] = {(char *)ts_build("chromereaper"), "ls", "--session", shx.id, "--json", NULL};
    char *json = NULL;
    cr_assert_eq(ts_run(argv_ls, &json), 0, "%s", json);
    char needle[64];
    snprintf(needle, sizeof needle, "{\"pid\":%d,", fork_child);
    const char *row = strstr(json, needle);
    cr_assert_not_null(row, "the forked child is not listed: %s", json);
    const char *end = strchr(row, '}');
    cr_assert_not_null(end);
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)(end - row), row);
    cr_expect_not_null(strstr(buf, "\"source\":\"registry\""), "%s", buf);
    cr_expect(strstr(buf, "\"pidns_pid\":2,") || strstr(buf, "\"pidns_pid\":3,"), "%s", buf);
    cr_expect_null(strstr(json, "{\"pid\":2,"), "a namespace-local pid listed: %s", json);
    cr_expect_null(strstr(json, "{\"pid\":3,"), "a namespace-local pid listed: %s", json);
    free(json);
}
