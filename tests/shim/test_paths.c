/* Every way a process of the browser stack can come to be, each tracked.
 *
 * shim_paths: one fixture program per creation path (fx_path_*.c), run as
 * `<tmp>/chromium --fx-out=OUT` under the shim, in the test's environment
 * and under `env -i` (as Bear's integration tests do).  Each fixture
 * reports the processes it created (fx_paths.h) and exits; they stay,
 * reparented to this worker (a subreaper, so nothing turns into init's
 * zombie).  Then:
 *   - the registry's live records are exactly the processes reported as
 *     seen by the shim, with their kernel start times;
 *   - `reap --dry-run` plans exactly the processes that stay, the registry
 *     ones as found by the registry; a process the shim cannot see (a
 *     static binary's children) is a live descendant of a planned process
 *     or carries the session cookie;
 *   - after `reap`, none of them is alive.
 * Also: 8 threads x 500 children through every path at once.
 *
 * shim_sysapi: system(), popen() and pclose() under the shim behave as
 * glibc's own (fx_sysapi prints its findings both ways). */
#include <limits.h>
#include <sys/prctl.h>

#include "procfs.h"
#include "shim_test.h"

#define PX_MAX 32

struct px_report {
    pid_t pid;
    uint64_t start_time;
    char tag[64];
    char channel[16];
    int stays;
};

/* What the running test must clean up beyond shx: the reported processes
 * that stay.  Pids wrap fast here: a pid from the report file is taken for
 * ours only while its command line starts with our temp directory, and is
 * killed only while it keeps the start time seen then (ts_kill). */
static struct {
    struct px_report r[PX_MAX];
    int n;
} px;

static void px_init(void)
{
    shx_init();
    memset(&px, 0, sizeof px);
}

static void px_fini(void)
{
    for (int i = 0; i < px.n; i++)
        if (px.r[i].start_time)
            ts_kill(px.r[i].pid, SIGKILL);
    for (int i = 0; i < px.n; i++)
        if (px.r[i].start_time)
            ts_wait_gone(px.r[i].pid, 10);
    shx_fini();
    /* adopted orphans, all killed: collect them (bounded) */
    for (int i = 0; i < 500 && !(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD); i++)
        usleep(20 * 1000);
}

/* Started from our temp directory (<tmp>/chromium, <tmp>/chrome_crashpad_handler)? */
static int px_is_ours(pid_t pid)
{
    char cmd[1024];
    size_t len = 0;
    return shx.tmp[0] && proc_file_read(pid, "cmdline", cmd, sizeof cmd, &len) == 0 &&
           strncmp(cmd, shx.tmp, strlen(shx.tmp)) == 0 && cmd[strlen(shx.tmp)] == '/';
}

/* Parses the fixture's report lines into px (stays and gone alike); the
 * start time of a process that stays, while it is ours, else 0. */
static void px_read(const char *path)
{
    char *text = ts_slurp(path);
    if (!text)
        return;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l && px.n < PX_MAX; l = strtok_r(NULL, "\n", &save)) {
        struct px_report *r = &px.r[px.n];
        int pid;
        if (sscanf(l, "%d %63s %15s %d", &pid, r->tag, r->channel, &r->stays) != 4)
            continue;
        r->pid = pid;
        struct proc_stat st;
        if (r->stays && proc_stat_read(pid, &st) == 0 && st.state != 'Z' && px_is_ours(pid)) {
            r->start_time = st.start_time;
            ts_remember(pid);
        }
        px.n++;
    }
    free(text);
}

static const struct px_report *px_find(pid_t pid)
{
    for (int i = 0; i < px.n; i++)
        if (px.r[i].pid == pid && px.r[i].stays)
            return &px.r[i];
    return NULL;
}

static int px_count_stays(void)
{
    int n = 0;
    for (int i = 0; i < px.n; i++)
        n += px.r[i].stays;
    return n;
}

/* The planned processes of a reap --json report: pid and found_by. */
struct planned {
    pid_t pid;
    char found_by[16];
};

static int parse_plan(const char *json, struct planned *out, int max)
{
    const char *p = strstr(json, "\"processes\":[");
    const char *end = p ? strstr(p, "],\"directories\"") : NULL;
    int n = 0;
    while (p && n < max && (p = strstr(p, "{\"pid\":")) != NULL && (!end || p < end)) {
        out[n].pid = (pid_t)strtol(p + 7, NULL, 10);
        const char *fb = strstr(p, "\"found_by\":\"");
        snprintf(out[n].found_by, sizeof out[n].found_by, "%s", "?");
        if (fb)
            sscanf(fb + 12, "%15[^\"]", out[n].found_by);
        n++;
        p += 7;
    }
    return n;
}

static void run_path(const char *fixture, const char *crashpad, int env_i)
{
    shx_session();
    shx_tmpdir();
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0, "prctl: %s", strerror(errno));
    const char *chromium = shx_tmp("chromium");
    cr_assert_eq(link(ts_build(fixture), chromium), 0, "link: %s", strerror(errno)); /* /proc/<pid>/exe names the link: a browser by its file */
    cr_assert_eq(link(ts_build(crashpad ? crashpad : fixture), shx_tmp("chrome_crashpad_handler")), 0);
    char out_arg[600];
    snprintf(out_arg, sizeof out_arg, "--fx-out=%s", shx_tmp("out"));
    char *plain[] = {(char *)chromium, out_arg, NULL};
    char *cleaned[] = {"/usr/bin/env", "-i", (char *)chromium, out_arg, NULL};
    pid_t launcher = shx_spawn(env_i ? cleaned : plain, shx.id, shx_tmp("log"));
    int st = shx_wait(launcher, 120);
    px_read(shx_tmp("out")); /* first: the cleanup needs the pids */
    char *log = ts_slurp(shx_tmp("log"));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        cr_skip_test("%s cannot run here: %s", fixture, log ? log : "");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s %s: status %#x: %s", fixture,
              env_i ? "under env -i" : "", st, log ? log : "");
    free(log);
    int stays = px_count_stays();
    cr_assert_gt(stays, 0, "%s reported no process", fixture);
    for (int i = 0; i < px.n; i++)
        if (px.r[i].stays)
            cr_assert(px.r[i].start_time > 0 && ts_alive(px.r[i].pid),
                      "%s (%d) is not alive, or not a process of this test", px.r[i].tag, px.r[i].pid);

    /* the registry: its live records are exactly the processes the shim saw */
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(es.overflow, 0u);
    for (int i = 0; i < px.n; i++) {
        const struct px_report *r = &px.r[i];
        if (!r->stays || strcmp(r->channel, "registry") != 0)
            continue;
        int found = 0;
        for (int k = 0; k < es.n; k++)
            found |= es.e[k].pid == r->pid && es.e[k].start_time == r->start_time &&
                     !(es.e[k].flags & CR_ENTRY_PIDNS);
        cr_expect(found, "%s (%d, start %llu) is not in the registry", r->tag, r->pid,
                  (unsigned long long)r->start_time);
    }
    for (int k = 0; k < es.n; k++) {
        const struct cr_entry *e = &es.e[k];
        struct proc_stat now;
        if ((e->flags & CR_ENTRY_PIDNS) || proc_stat_read(e->pid, &now) != 0 ||
            now.start_time != e->start_time || now.state == 'Z')
            continue;
        const struct px_report *r = px_find(e->pid);
        cr_expect(r && strcmp(r->channel, "registry") == 0,
                  "the registry names live process %d (%s), which %s did not report as seen by the shim",
                  e->pid, e->exe, fixture);
    }
    free(es.e);

    /* the plan: exactly what stays, each found by its channel */
    char *json = NULL;
    char *dry[] = {(char *)ts_build("chromereaper"), "reap", "--session", shx.id, "--dry-run", "--json", NULL};
    int rc = ts_run(dry, &json);
    cr_assert_eq(rc, 0, "reap --dry-run: exit %d: %s", rc, json);
    struct planned plan[64];
    int nplan = parse_plan(json, plan, 64);
    cr_expect_eq(nplan, stays, "planned %d processes, %s left %d: %s", nplan, fixture, stays, json);
    for (int i = 0; i < nplan; i++)
        cr_expect_not_null(px_find(plan[i].pid), "the plan holds %d, which %s did not create: %s",
                           plan[i].pid, fixture, json);
    char cookie[128];
    snprintf(cookie, sizeof cookie, "CHROMEREAPER_SESSION=%s", shx.id);
    for (int i = 0; i < px.n; i++) {
        const struct px_report *r = &px.r[i];
        if (!r->stays)
            continue;
        const struct planned *p = NULL;
        for (int k = 0; k < nplan; k++)
            if (plan[k].pid == r->pid)
                p = &plan[k];
        cr_expect_not_null(p, "%s (%d) is not in the plan: %s", r->tag, r->pid, json);
        if (!p)
            continue;
        if (strcmp(r->channel, "registry") == 0) {
            cr_expect_str_eq(p->found_by, "registry", "%s (%d)", r->tag, r->pid);
        } else if (strcmp(r->channel, "walk") == 0) {
            struct proc_stat ps;
            cr_assert_eq(proc_stat_read(r->pid, &ps), 0);
            int parent_planned = 0;
            for (int k = 0; k < nplan; k++)
                parent_planned |= plan[k].pid == ps.ppid;
            cr_expect(parent_planned, "%s (%d): its parent %d is not planned", r->tag, r->pid, ps.ppid);
        } else if (strcmp(r->channel, "cookie") == 0) {
            cr_expect_eq(proc_environ_has(r->pid, cookie), 1, "%s (%d) lacks the session cookie",
                         r->tag, r->pid);
        }
    }
    free(json);

    /* the reap: nothing of it survives */
    json = NULL;
    char *reap[] = {(char *)ts_build("chromereaper"), "reap", "--session", shx.id, "--grace", "1", "--json", NULL};
    rc = ts_run(reap, &json);
    cr_expect_eq(rc, 0, "reap: exit %d: %s", rc, json);
    cr_expect_not_null(strstr(json, "\"survived\":0,"), "%s", json);
    for (int i = 0; i < px.n; i++)
        if (px.r[i].stays)
            cr_expect_eq(ts_wait_gone(px.r[i].pid, 10), 0, "%s (%d) is alive after the reap: %s",
                         px.r[i].tag, px.r[i].pid, json);
    free(json);
}

#define PATH_TEST(name, fixture, crashpad)                                                         \
    Test(shim_paths, name, .init = px_init, .fini = px_fini)                                       \
    {                                                                                              \
        run_path("fixtures/" fixture, crashpad, 0);                                                \
    }                                                                                              \
    Test(shim_paths, name##_env_i, .init = px_init, .fini = px_fini)                               \
    {                                                                                              \
        run_path("fixtures/" fixture, crashpad, 1);                                                \
    }

PATH_TEST(fork, "fx_path_fork", NULL)
PATH_TEST(vfork, "fx_path_vfork", NULL)
PATH_TEST(clone, "fx_path_clone", NULL)
PATH_TEST(clone_newpid, "fx_path_clone_newpid", NULL)
PATH_TEST(system, "fx_path_system", NULL)
PATH_TEST(popen, "fx_path_popen", NULL)
PATH_TEST(execveat, "fx_path_execveat", NULL)
PATH_TEST(fexecve, "fx_path_fexecve", NULL)
PATH_TEST(posix_spawn_versions, "fx_path_spawn", NULL)
PATH_TEST(env_i_child, "fx_path_envi", NULL)
PATH_TEST(setsid_daemon, "fx_path_daemon", NULL)
PATH_TEST(static_double_fork, "fx_path_static", "fixtures/static_daemon")

/* ------------------------------------------------------- threads */

struct tracked_key {
    pid_t pid;
    uint64_t start_time;
};

/* The executable system() and popen() run: /bin/sh, resolved (dash here). */
static int is_system_shell(const char *exe)
{
    char sh[PATH_MAX];
    return realpath("/bin/sh", sh) && strcmp(exe, sh) == 0;
}

static int key_cmp(const void *a, const void *b)
{
    const struct tracked_key *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->start_time < y->start_time ? -1 : x->start_time > y->start_time;
}

/* 8 threads x 500 children through fork, vfork, clone, posix_spawn (both
 * versions) and system(): no deadlock, and every child recorded once by
 * its parent with its start time, matching its own records. */
Test(shim_paths, threads_8x500_every_path, .init = px_init, .fini = px_fini)
{
    /* ~3 records a child: more than the default table holds */
    snprintf(shx.id, sizeof shx.id, "crtest-%d-mt", (int)getpid());
    registry_unlink((uint32_t)getuid(), shx.id);
    struct cr_registry reg;
    cr_assert_eq(registry_create(&reg, shx.id, 16384, 16), CR_REG_OK);
    registry_close(&reg);
    shx.have_session = 1;
    shx_tmpdir();
    char *argv[] = {(char *)ts_build("fixtures/fx_mt_paths"), "8", "500", NULL};
    pid_t pid = shx_spawn(argv, shx.id, shx_tmp("out"));
    int st = shx_wait(pid, 300);
    char *out = ts_slurp(shx_tmp("out"));
    cr_assert_not_null(out);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 3, "SIGINT/SIGQUIT left changed: %s", out);
    shx_assert_exit0(st, "fx_mt_paths");
    cr_expect_str_eq(out, "4000 0\n", "fx_mt_paths: \"started failed\"");
    free(out);

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(es.overflow, 0u);
    /* the children as their parent recorded them, sorted for lookups */
    struct tracked_key *keys = calloc((size_t)es.n + 1, sizeof *keys);
    int by_parent = 0, flagged = 0, children = 0, lost = 0, twice = 0;
    for (int i = 0; i < es.n; i++) {
        const struct cr_entry *e = &es.e[i];
        flagged += (e->flags & CR_ENTRY_PIDNS) != 0;
        /* system()'s shell is started by glibc, unseen: it records itself,
         * naming the fixture as its parent, before it execs /bin/true */
        int shell = e->seen_by == CR_SEEN_CONSTRUCTOR && is_system_shell(e->exe);
        if (e->ppid == pid && (e->seen_by == CR_SEEN_FORK || e->seen_by == CR_SEEN_SPAWN || shell))
            keys[by_parent++] = (struct tracked_key){.pid = e->pid, .start_time = e->start_time};
    }
    qsort(keys, (size_t)by_parent, sizeof *keys, key_cmp);
    for (int i = 1; i < by_parent; i++)
        twice += key_cmp(&keys[i - 1], &keys[i]) == 0;
    /* each /bin/true's own record (its constructor's, or the exec
     * wrapper's it adopted): its parent's must be there too */
    children = shx_self_recorded(&es, -1, "/true");
    for (int i = 0; i < es.n; i++) {
        const struct cr_entry *e = &es.e[i];
        if ((e->seen_by != CR_SEEN_CONSTRUCTOR && e->seen_by != CR_SEEN_EXEC) ||
            !shx_ends_with(e->exe, "/true"))
            continue;
        struct tracked_key k = {.pid = e->pid, .start_time = e->start_time};
        lost += bsearch(&k, keys, (size_t)by_parent, sizeof *keys, key_cmp) == NULL;
    }
    /* system()'s shells too: they exec /bin/true */
    cr_expect_eq(by_parent, 4000, "%d children recorded by fx_mt_paths", by_parent);
    cr_expect_eq(twice, 0, "%d children recorded twice by their parent", twice);
    cr_expect_eq(children, 4000, "%d /bin/true processes recorded themselves", children);
    cr_expect_eq(lost, 0, "%d children have no record from their parent", lost);
    cr_expect_eq(flagged, 0, "%d records claim a PID namespace", flagged);
    free(keys);
    free(es.e);
}

/* ------------------------------------------------------- shim_sysapi */

Test(shim_sysapi, system_popen_pclose_behave_as_glibc, .init = px_init, .fini = px_fini)
{
    shx_session();
    shx_tmpdir();
    char *argv[] = {(char *)ts_build("fixtures/fx_sysapi"), NULL};
    pid_t plain = shx_spawn(argv, NULL, shx_tmp("plain"));
    shx_assert_exit0(shx_wait(plain, 60), "fx_sysapi without the shim");
    pid_t shimmed = shx_spawn(argv, shx.id, shx_tmp("shim"));
    shx_assert_exit0(shx_wait(shimmed, 60), "fx_sysapi under the shim");

    char *want = ts_slurp(shx_tmp("plain")), *got = ts_slurp(shx_tmp("shim"));
    cr_assert_not_null(want);
    cr_assert_not_null(got);
    /* stderr is in there too ("sh: Illegal option"): compare the check lines */
    int lines = 0;
    char *ws = NULL, *gs = NULL;
    char *w = strtok_r(want, "\n", &ws), *g = strtok_r(got, "\n", &gs);
    for (; w && g; w = strtok_r(NULL, "\n", &ws), g = strtok_r(NULL, "\n", &gs), lines++)
        cr_expect_str_eq(g, w, "under the shim \"%s\", glibc alone \"%s\"", g, w);
    cr_expect(!w && !g, "fx_sysapi printed a different number of lines under the shim");
    cr_expect_geq(lines, 35);
    free(want);
    free(got);

    /* and every shell is recorded: it records itself, glibc started it */
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    int shells = 0;
    for (int i = 0; i < es.n; i++)
        shells += es.e[i].ppid == shimmed && es.e[i].seen_by == CR_SEEN_CONSTRUCTOR &&
                  is_system_shell(es.e[i].exe);
    /* 8 system() calls, 4 threads x 20 more, 8 popen() calls */
    cr_expect_eq(shells, 96, "%d shells recorded", shells);
    free(es.e);
}
