/* The shim under real programs: every process-creating API it wraps, each
 * with the inherited environment and with environments that lack (or
 * half-lack) LD_PRELOAD and the session cookie.
 *
 * build/fixtures/fx_launch API MODE OUT starts build/fixtures/fx_child
 * through API (exec family from a vfork child, as Python's subprocess
 * does) and exits 0 only if the child exited 0 and its own `environ` is
 * byte-for-byte what it was (gentoo bug 669702).  fx_child appends
 * "<pid> <session?> <preload?> <#FX vars> <session> <LD_PRELOAD>" to OUT.
 *
 * Suites: shim_launch (API x MODE matrix), shim_env (edge cases of the
 * environment rebuild), shim_vfork (what a vfork child may not leave
 * behind in its parent). */
#include <limits.h>

#include "shim_test.h"

enum kind { K_FORK, K_FORK_EXEC, K_EXEC, K_SPAWN };

static enum kind kind_of(const char *api)
{
    if (strcmp(api, "fork") == 0)
        return K_FORK;
    if (strcmp(api, "fork_exec") == 0)
        return K_FORK_EXEC;
    if (strncmp(api, "posix_spawn", 11) == 0)
        return K_SPAWN;
    return K_EXEC;
}

/* realpath of the shim: what it puts in a rebuilt LD_PRELOAD */
static const char *our_preload(void)
{
    static char buf[PATH_MAX];
    cr_assert_not_null(realpath(ts_build("libchromereaper.so"), buf), "realpath of the shim: %s",
                       strerror(errno));
    return buf;
}

/* Runs fx_launch API MODE, checks how it ended, returns its pid and the
 * child's report line. */
static pid_t launch(const char *api, const char *mode, const char *extra, struct shx_line *line)
{
    const char *out = shx_tmp("out");
    char *argv[] = {(char *)ts_build("fixtures/fx_launch"), (char *)api, (char *)mode,
                    (char *)out, (char *)extra, NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    int st = shx_wait(pid, 60);

    struct shx_line lines[4];
    int n = shx_read_lines(out, lines, 4); /* before asserting: notes stray sessions */
    cr_assert(WIFEXITED(st), "fx_launch %s %s: killed by signal %d", api, mode,
              WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    cr_assert_neq(WEXITSTATUS(st), 3, "fx_launch %s %s: the caller's environ was modified", api, mode);
    cr_assert_neq(WEXITSTATUS(st), 4, "fx_launch %s %s: the launch left memory mapped in the caller",
                  api, mode);
    cr_assert_eq(WEXITSTATUS(st), 0, "fx_launch %s %s: exit %d (2: the launch or the child failed)",
                 api, mode, WEXITSTATUS(st));
    cr_assert_eq(n, 1, "expected exactly one report line from the child, got %d", n);
    cr_assert_gt(lines[0].pid, 0);
    cr_assert_neq(lines[0].pid, pid, "the report came from fx_launch itself");
    *line = lines[0];
    return pid;
}

/* What the child's LD_PRELOAD must be, or NULL for "whatever was inherited,
 * as long as it holds the shim". */
static const char *expected_preload(const char *mode, char *buf, size_t len)
{
    if (strcmp(mode, "other") == 0) {
        snprintf(buf, len, "%s %s", our_preload(), FX_OTHER_PRELOAD);
        return buf;
    }
    if (strcmp(mode, "bare") == 0 || strcmp(mode, "big") == 0 || strcmp(mode, "nopreload") == 0 ||
        strcmp(mode, "emptypreload") == 0) {
        snprintf(buf, len, "%s", our_preload());
        return buf;
    }
    return NULL;
}

static void check_launch(const char *api, const char *mode)
{
    shx_session();
    shx_tmpdir();
    struct shx_line line;
    pid_t launcher = launch(api, mode, NULL, &line);
    pid_t child = line.pid;
    enum kind kind = kind_of(api);

    /* the child's own view of its environment */
    cr_expect_eq(line.session, 1, "child %d has no CHROMEREAPER_SESSION", child);
    cr_expect_eq(line.preload, 1, "child %d has no libchromereaper.so in LD_PRELOAD (\"%s\")", child,
                 line.preload_value);
    cr_expect_str_eq(line.session_id, shx.id, "child runs in another session");
    char buf[PATH_MAX + 64];
    const char *want = kind == K_FORK ? NULL : expected_preload(mode, buf, sizeof buf);
    if (want)
        cr_expect_str_eq(line.preload_value, want, "LD_PRELOAD of the child");
    if (kind != K_FORK && strcmp(mode, "normal") != 0) {
        int fx = 1 + (strcmp(mode, "big") == 0 ? FX_BIG_COUNT : 0);
        cr_expect_eq(line.fx, fx, "the child got %d of the %d FX* entries of its envp", line.fx, fx);
    }

    /* what the registry says */
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    struct cr_entry e;
    cr_expect_eq(es.overflow, 0u);
    cr_expect_eq(shx_count(&es, launcher, getpid(), CR_SEEN_CONSTRUCTOR, NULL), 1,
                 "fx_launch (pid %d) was not registered by its constructor", launcher);
    cr_expect_eq(shx_count(&es, 0, -1, CR_SEEN_EXEC_FAILED, NULL), 0, "an exec was recorded as failed");

    switch (kind) {
    case K_FORK:
        cr_expect_eq(shx_count(&es, child, launcher, CR_SEEN_FORK, &e), 1,
                     "fork child %d not recorded by its parent", child);
        cr_expect_eq(shx_count(&es, child, -1, CR_SEEN_CONSTRUCTOR, NULL), 0,
                     "a fork child without exec ran the constructor?");
        break;
    case K_FORK_EXEC:
    case K_EXEC:
        /* fork_exec forks; the exec APIs run in a vfork child, which the
         * parent records too once it has exec'd */
        cr_expect_eq(shx_count(&es, child, launcher, CR_SEEN_FORK, NULL), 1,
                     "fork/vfork child %d not recorded by its parent", child);
        cr_expect_eq(shx_count(&es, child, launcher, CR_SEEN_EXEC, &e), 1,
                     "exec of child %d not recorded", child);
        if (shx_count(&es, child, launcher, CR_SEEN_EXEC, &e) == 1) {
            cr_expect(shx_ends_with(e.exe, "fx_child"), "exec entry names \"%s\"", e.exe);
            cr_expect_eq(e.role, CR_ROLE_OTHER);
        }
        break;
    case K_SPAWN:
        cr_expect_eq(shx_count(&es, child, launcher, CR_SEEN_SPAWN, &e), 1,
                     "spawned child %d not recorded by its parent", child);
        if (shx_count(&es, child, launcher, CR_SEEN_SPAWN, &e) == 1)
            cr_expect(shx_ends_with(e.exe, "fx_child"), "spawn entry names \"%s\"", e.exe);
        break;
    }
    if (kind != K_FORK)
        /* the shim was loaded in the new image, in our session: fx_child's
         * own fork was recorded (re-injection worked) */
        cr_expect_eq(shx_count(&es, 0, child, CR_SEEN_FORK, NULL), 1,
                     "the shim in child %d did not record its fork", child);
    if (kind == K_FORK_EXEC || kind == K_EXEC) {
        /* one record per exec: the new image's constructor found the one
         * its exec wrapper made, and appended nothing */
        cr_expect_eq(shx_count(&es, child, -1, CR_SEEN_CONSTRUCTOR, NULL), 0,
                     "exec'd child %d recorded itself a second time", child);
        /* the parent's record and the child's own name the same process */
        struct cr_entry forked;
        if (shx_count(&es, child, launcher, CR_SEEN_EXEC, &e) == 1 &&
            shx_count(&es, child, launcher, CR_SEEN_FORK, &forked) == 1)
            cr_expect_eq(forked.start_time, e.start_time,
                         "start time %llu recorded by the parent, %llu by the child",
                         (unsigned long long)forked.start_time, (unsigned long long)e.start_time);
    }
    if (kind == K_SPAWN) {
        /* no exec wrapper ran in it: its constructor records it */
        cr_expect_eq(shx_count(&es, child, launcher, CR_SEEN_CONSTRUCTOR, &e), 1,
                     "the shim's constructor did not run in child %d", child);
        if (shx_count(&es, child, launcher, CR_SEEN_CONSTRUCTOR, &e) == 1) {
            cr_expect(shx_ends_with(e.exe, "/fx_child"), "constructor entry exe \"%s\"", e.exe);
            cr_expect_eq(e.role, CR_ROLE_OTHER);
            /* the parent's record and the child's own name the same process */
            struct cr_entry other;
            if (shx_count(&es, child, launcher, CR_SEEN_SPAWN, &other) == 1)
                cr_expect_eq(other.start_time, e.start_time,
                             "start time %llu recorded by the parent, %llu by the child",
                             (unsigned long long)other.start_time, (unsigned long long)e.start_time);
        }
    }
    /* nothing else: fx_launch, the child's records, no strays */
    int expected = 1 + (kind == K_FORK ? 1 : 3);
    cr_expect_eq(es.n, expected, "registry holds %d entries, expected %d", es.n, expected);
    free(es.e);
}

#define LAUNCH_TEST(api, mode)                                                                     \
    Test(shim_launch, api##_##mode, .init = shx_init, .fini = shx_fini)                           \
    {                                                                                              \
        check_launch(#api, #mode);                                                                 \
    }

#define LAUNCH_ALL_MODES(api)                                                                      \
    LAUNCH_TEST(api, normal)                                                                       \
    LAUNCH_TEST(api, bare)                                                                         \
    LAUNCH_TEST(api, big)                                                                          \
    LAUNCH_TEST(api, other)                                                                        \
    LAUNCH_TEST(api, nosession)                                                                    \
    LAUNCH_TEST(api, nopreload)                                                                    \
    LAUNCH_TEST(api, emptypreload)

/* fork: the child inherits environ and does not exec */
LAUNCH_TEST(fork, normal)
LAUNCH_TEST(fork, bare)

LAUNCH_ALL_MODES(fork_exec)
LAUNCH_ALL_MODES(execve)
LAUNCH_ALL_MODES(execv)
LAUNCH_ALL_MODES(execvp)
LAUNCH_ALL_MODES(execvpe)
LAUNCH_ALL_MODES(execl)
LAUNCH_ALL_MODES(execlp)
LAUNCH_ALL_MODES(execle)
LAUNCH_ALL_MODES(posix_spawn)
LAUNCH_ALL_MODES(posix_spawnp)
LAUNCH_ALL_MODES(posix_spawn_nullpid)
LAUNCH_ALL_MODES(posix_spawnp_nullpid)

/* ------------------------------------------------------------ shim_env */

/* "CHROMEREAPER_SESSION=" (empty) counts as missing: the child must end up
 * in our session, not in a fresh one its constructor makes up. */
static void check_empty_session(const char *api)
{
    shx_session();
    shx_tmpdir();
    struct shx_line line;
    launch(api, "emptysession", NULL, &line);
    cr_expect_eq(line.preload, 1);
    cr_expect_str_eq(line.session_id, shx.id,
                     "child %d ended up in session \"%s\" (its envp had an empty "
                     "CHROMEREAPER_SESSION= before the re-injected one)",
                     line.pid, line.session_id);
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(shx_count(&es, 0, line.pid, CR_SEEN_FORK, NULL), 1,
                 "the shim in child %d did not record its fork in our session", line.pid);
    free(es.e);
}

Test(shim_env, empty_session_value_is_replaced_execve, .init = shx_init, .fini = shx_fini)
{
    check_empty_session("execve");
}

Test(shim_env, empty_session_value_is_replaced_execv, .init = shx_init, .fini = shx_fini)
{
    check_empty_session("execv");
}

Test(shim_env, empty_session_value_is_replaced_posix_spawn, .init = shx_init, .fini = shx_fini)
{
    check_empty_session("posix_spawn");
}

/* Our library is already preloaded, behind another one: left alone. */
Test(shim_env, preload_of_caller_kept_when_ours_is_there, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    /* LD_PRELOAD="<other> <ours>" for fx_launch and, inherited, its child */
    char value[PATH_MAX * 2 + 8];
    snprintf(value, sizeof value, "%s %s", FX_OTHER_PRELOAD, our_preload());
    struct shx_line line;
    pid_t pid = shx_launch_preloading("normal", value, &line);
    cr_expect_str_eq(line.preload_value, value, "LD_PRELOAD was rewritten");
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(shx_self_recorded(&es, pid, NULL), 1);
    cr_expect_eq(shx_count(&es, 0, line.pid, CR_SEEN_FORK, NULL), 1);
    free(es.e);
}

/* ------------------------------------------------------------ shim_vfork */

/* An exec from a vfork child runs in the parent's address space: a
 * mapping made there and not released before a successful exec stays
 * in the parent for good.  fx_launch ... leakcheck exits 4 when the
 * parent's VmSize changed across the launch. */
static void check_no_leak(const char *api, const char *mode)
{
    shx_session();
    shx_tmpdir();
    struct shx_line line;
    launch(api, mode, "leakcheck", &line);
    cr_expect_eq(line.preload, 1);
    cr_expect_str_eq(line.session_id, shx.id);
}

/* controls: the measurement itself is stable */
Test(shim_vfork, execve_bare_env_leaves_nothing_mapped, .init = shx_init, .fini = shx_fini)
{
    check_no_leak("execve", "bare");
}

Test(shim_vfork, posix_spawn_big_env_leaves_nothing_mapped, .init = shx_init, .fini = shx_fini)
{
    check_no_leak("posix_spawn", "big");
}

/* more entries than the shim's stack buffer: its envp goes elsewhere */
Test(shim_vfork, execve_big_env_leaves_nothing_mapped, .init = shx_init, .fini = shx_fini)
{
    check_no_leak("execve", "big");
}

Test(shim_vfork, execvp_big_env_leaves_nothing_mapped, .init = shx_init, .fini = shx_fini)
{
    check_no_leak("execvp", "big");
}

Test(shim_vfork, execle_big_env_leaves_nothing_mapped, .init = shx_init, .fini = shx_fini)
{
    check_no_leak("execle", "big");
}
