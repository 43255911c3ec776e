/* Hosts the library must be invisible to, each run with and without it:
 * same output, same exit status, same environment for what they start
 * (with the library, plus only LD_PRELOAD and CHROMEREAPER_SESSION).  When
 * the library cannot track a child it says so once on stderr and changes
 * nothing else. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

static char session[64], tmp[256];

static void setup(void)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    registry_close(&reg);
    ts_tmpdir(tmp, sizeof tmp, "hosts");
}

static void teardown(void)
{
    ts_kill_session(session);
    ts_session_remove(session);
    ts_rm_rf(tmp);
}

TestSuite(host_transparency, .init = setup, .fini = teardown, .timeout = 120);

struct outcome {
    int status; /* exit code, or 128+N */
    char *out;  /* stdout */
    char *err;  /* stderr */
};

enum { WITHOUT, IN_SESSION, AS_ROOT };

/* Runs argv to its end: without the library, under it in our session, or
 * under it as the root of a session of its own. */
static void run(char *const argv[], int with_library, struct outcome *o)
{
    char out[300], err[300];
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(err, sizeof err, "%s/err", tmp);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        if (with_library != WITHOUT)
            setenv("LD_PRELOAD", ts_build("libchromereaper.so"), 1);
        if (with_library == IN_SESSION)
            setenv("CHROMEREAPER_SESSION", session, 1);
        unsetenv("CHROMEREAPER_LOG");
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = ts_waitpid(pid, 100);
    cr_assert_neq(st, -1, "%s did not finish", argv[0]);
    o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    o->out = ts_slurp(out);
    o->err = ts_slurp(err);
    if (!o->out)
        o->out = strdup("");
    if (!o->err)
        o->err = strdup("");
}

static void outcome_free(struct outcome *o)
{
    free(o->out);
    free(o->err);
}

/* `with` is `without` plus, at most, lines of the tracking variables. */
static void assert_same_but_tracking(const char *with, const char *without, const char *what)
{
    char *copy = strdup(with), *save = NULL;
    size_t kept = 0;
    char *rest = malloc(strlen(with) + 1);
    rest[0] = '\0';
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "LD_PRELOAD=", 11) == 0 || strncmp(l, "CHROMEREAPER_SESSION=", 21) == 0)
            continue;
        size_t n = strlen(l);
        memcpy(rest + kept, l, n);
        rest[kept + n] = '\n';
        kept += n + 1;
        rest[kept] = '\0';
    }
    cr_expect_str_eq(rest, without, "%s: the output differs beyond the tracking variables", what);
    free(rest);
    free(copy);
}

/* Runs the host both ways and compares; returns the run with the library
 * (the caller frees it). */
static struct outcome compare_host_as(char *const argv[], const char *what, int how)
{
    struct outcome without, with;
    run(argv, WITHOUT, &without);
    run(argv, how, &with);
    cr_expect_eq(with.status, without.status, "%s: exit status %d under the library, %d without (stderr: %.300s)",
                 what, with.status, without.status, with.err);
    assert_same_but_tracking(with.out, without.out, what);
    outcome_free(&without);
    return with;
}

static struct outcome compare_host(char *const argv[], const char *what)
{
    return compare_host_as(argv, what, IN_SESSION);
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            n++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}

/* posix_spawn with a NULL environment: the child's is empty without the
 * library, and holds only the tracking variables with it. */
Test(host_transparency, posix_spawn_with_a_null_environment)
{
    char *argv[] = {(char *)ts_build("fixtures/fx_bigenv"), "posix_spawn_null", "0", "256", NULL};
    struct outcome with = compare_host(argv, "posix_spawn(NULL env)");
    cr_expect_eq(with.status, 0);
    cr_expect_eq(count_lines(with.out, "PATH="), 0, "the child got the parent's environment:\n%s", with.out);
    cr_expect_eq(count_lines(with.out, "CHROMEREAPER_SESSION="), 1, "the child is untracked:\n%s", with.out);
    outcome_free(&with);
}

/* 8,000 variables from a thread with a 64 KiB stack. */
static void big_env_small_stack(const char *api)
{
    char *argv[] = {(char *)ts_build("fixtures/fx_bigenv"), (char *)api, "8000", "64", NULL};
    struct outcome with = compare_host(argv, api);
    cr_expect_eq(with.status, 0, "%s: %d", api, with.status);
    cr_expect_eq(count_lines(with.out, "FXBIG_"), 8000);
    cr_expect_leq(count_lines(with.err, "chromereaper:"), 1, "%s", with.err);
    outcome_free(&with);
}

Test(host_transparency, posix_spawn_of_8000_variables_from_a_64k_stack)
{
    big_env_small_stack("posix_spawn");
}

Test(host_transparency, vfork_execve_of_8000_variables_from_a_64k_stack)
{
    big_env_small_stack("vfork_execve");
}

Test(host_transparency, fork_execve_of_8000_variables_from_a_64k_stack)
{
    big_env_small_stack("fork_execve");
}

/* Python's subprocess (vfork + execve in Debian's 3.11) from a thread with
 * a small stack, 30,000 variables. */
Test(host_transparency, python_subprocess_from_a_small_stack_thread)
{
    const char *script =
        "import subprocess, sys, threading\n"
        "threading.stack_size(64 * 1024)\n"
        "env = {'FXBIG_%d' % i: str(i) for i in range(30000)}\n"
        "res = {}\n"
        "def go():\n"
        "    try:\n"
        "        p = subprocess.run(['/usr/bin/env'], env=env, stdout=subprocess.PIPE)\n"
        "        res['out'] = p.stdout.decode(); res['rc'] = p.returncode\n"
        "    except Exception as e:\n"
        "        res['out'] = 'EXC %r\\n' % e; res['rc'] = -1\n"
        "t = threading.Thread(target=go); t.start(); t.join()\n"
        "sys.stdout.write(res['out']); print('rc', res['rc'])\n";
    char *argv[] = {"/usr/bin/python3", "-c", (char *)script, NULL};
    struct outcome with = compare_host(argv, "python subprocess");
    cr_expect_eq(with.status, 0);
    cr_expect_eq(count_lines(with.out, "FXBIG_"), 30000);
    cr_expect_eq(count_lines(with.out, "rc 0"), 1, "%.300s", with.err);
    outcome_free(&with);
}

/* system() and popen() after the host dropped LD_PRELOAD, with a 40 KB
 * command of 40,000 quotes: what glibc's own runs, the wrapped one runs. */
static void long_quoted_command(const char *api)
{
    char *argv[] = {(char *)ts_build("fixtures/fx_system_long"), (char *)api, NULL};
    struct outcome with = compare_host(argv, api);
    cr_expect_str_eq(with.out, "start end\nstatus 0\n", "%s: %.300s", api, with.err);
    outcome_free(&with);
}

Test(host_transparency, system_of_a_long_quoted_command_after_unsetenv)
{
    long_quoted_command("system");
}

Test(host_transparency, popen_of_a_long_quoted_command_after_unsetenv)
{
    long_quoted_command("popen");
}

/* bash as the session's root: bash brings its own getenv and setenv. */
Test(host_transparency, bash_as_a_session_root)
{
    char *argv[] = {"/bin/bash", "-c",
                    "echo \"$BASH_VERSION\" >/dev/null; x=$(/usr/bin/env | sort); echo \"$x\"; "
                    "/bin/sh -c 'exit 3'; echo status $?; export FOO=bar; /usr/bin/env | grep FOO; exit 4",
                    NULL};
    struct outcome with = compare_host_as(argv, "bash root", AS_ROOT);
    cr_expect_eq(with.status, 4);
    cr_expect_str_eq(with.err, "", "bash under the library printed on stderr");
    cr_expect_eq(count_lines(with.out, "CHROMEREAPER_SESSION="), 1, "bash's children are untracked:\n%s",
                 with.out);
    outcome_free(&with);
}

/* Node's child_process: spawn (async), spawnSync with an environment of
 * its own, and exec (a shell). */
Test(host_transparency, node_child_process_spawn_and_exec)
{
    const char *script =
        "const cp = require('child_process');\n"
        "const r = cp.spawnSync('/usr/bin/env', [], {env: {A: '1'}});\n"
        "process.stdout.write('sync ' + r.status + '\\n' + r.stdout);\n"
        "const c = cp.spawn('/bin/sh', ['-c', 'echo spawned; exit 6']);\n"
        "c.stdout.on('data', d => process.stdout.write(d));\n"
        "c.on('close', code => {\n"
        "  process.stdout.write('spawn ' + code + '\\n');\n"
        "  cp.exec('echo $B; exit 4', {env: {B: 'two'}}, (e, so) => {\n"
        "    process.stdout.write(so + 'exec ' + (e ? e.code : 0) + '\\n');\n"
        "    process.exitCode = 9;\n"
        "  });\n"
        "});\n";
    char *argv[] = {"/usr/bin/node", "-e", (char *)script, NULL};
    struct outcome with = compare_host(argv, "node");
    cr_expect_eq(with.status, 9);
    cr_expect_eq(count_lines(with.out, "exec 4"), 1, "%s", with.out);
    outcome_free(&with);
}

/* `children_run`: without the library the children run to their end
 * (with RLIMIT_NOFILE at 3 not even the loader can open libc in them:
 * they fail, and must fail the same way). */
static void fd_limited_host(const char *how, int children_run)
{
    char *argv[] = {(char *)ts_build("fixtures/fx_fdlimits"), (char *)how, NULL};
    struct outcome with = compare_host(argv, how);
    cr_expect_eq(with.status, 0);
    cr_expect_eq(count_lines(with.out, "posix_spawn "), 1, "%s", with.out);
    if (children_run) {
        cr_expect_eq(count_lines(with.out, "posix_spawn 0"), 1, "%s", with.out);
        cr_expect_eq(count_lines(with.out, "fork_execve 0"), 1, "%s", with.out);
        cr_expect_eq(count_lines(with.out, "system 5"), 1, "%s", with.out);
        cr_expect_eq(count_lines(with.out, "CHROMEREAPER_SESSION="), 3, "untracked children:\n%s", with.out);
    }
    cr_expect_leq(count_lines(with.err, "chromereaper:"), 1, "%s", with.err);
    outcome_free(&with);
}

Test(host_transparency, a_host_that_calls_closefrom)
{
    fd_limited_host("closefrom", 1);
}

Test(host_transparency, a_host_that_calls_close_range)
{
    fd_limited_host("close_range", 1);
}

Test(host_transparency, a_host_with_rlimit_nofile_3)
{
    fd_limited_host("nofile3", 0);
}
