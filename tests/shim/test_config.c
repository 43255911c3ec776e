/* What the library takes from the environment, and what it leaves there.
 * Its configuration is read from the environment the program was started
 * with, whatever getenv the host brings (bash has its own getenv and
 * setenv), and the library adds no variable to the host's own
 * environment. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

static char tmp[256];
static pid_t last_pid; /* of the latest run_env */
static pid_t strays[8];
static int nstrays;

static void setup(void)
{
    ts_tmpdir(tmp, sizeof tmp, "config");
    nstrays = 0;
}

static void teardown(void)
{
    for (int i = 0; i < nstrays; i++) {
        kill(strays[i], SIGKILL);
        waitpid(strays[i], NULL, 0);
    }
    ts_rm_rf(tmp);
}

TestSuite(shim_config, .init = setup, .fini = teardown, .timeout = 60);

static const char *in_tmp(const char *name) { return ts_join(tmp, name); }

/* Runs argv with exactly `envp`, stdout and stderr into files of tmp;
 * returns the wait status. */
static int run_env(char *const argv[], char *const envp[], const char *out, const char *err)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(in_tmp(out), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        fd = open(in_tmp(err), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    last_pid = pid;
    int st = ts_waitpid(pid, 30);
    cr_assert_neq(st, -1, "%s did not finish", argv[0]);
    return st;
}

static char *slurp_tmp(const char *name)
{
    char *s = ts_slurp(in_tmp(name));
    return s ? s : strdup("");
}

/* A stand-in for the chromereaper binary: it says it ran, then waits. */
static const char *fake_reaper(void)
{
    const char *path = in_tmp("fake-reaper");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\necho \"$@\" > %s/reaper-ran\nexec sleep 60\n", tmp);
    fclose(f);
    chmod(path, 0755);
    return path;
}

static char preload[512], reaper_var[600];

static void env_entries(void)
{
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", ts_build("libchromereaper.so"));
    snprintf(reaper_var, sizeof reaper_var, "CHROMEREAPER_REAPER=%s", fake_reaper());
}


/* With bash as the session's root, CHROMEREAPER_REAPER names the watchdog. */
Test(shim_config, bash_root_honours_chromereaper_reaper)
{
    env_entries();
    char *envp[] = {preload, reaper_var, "PATH=/usr/bin:/bin", NULL};
    char *argv[] = {"/bin/bash", "-c", "echo $$", NULL};
    int st = run_env(argv, envp, "out", "err");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_assert_eq(ts_wait_file(in_tmp("reaper-ran"), 15), 0,
                 "CHROMEREAPER_REAPER was not the watchdog started for bash: %s", slurp_tmp("err"));
    char *args = slurp_tmp("reaper-ran");
    cr_expect_not_null(strstr(args, "watch --session "), "%s", args);
    /* that session: reap nothing, just remove its registry */
    char *sp = strstr(args, "--session ");
    if (sp) {
        char id[64] = "";
        sscanf(sp + 10, "%63s", id);
        registry_unlink((uint32_t)getuid(), id);
    }
    free(args);
}

/* CHROMEREAPER_WATCHDOG=0 under bash: no watchdog at all.  The test is a
 * subreaper, so a watchdog double-forked by the root would be its child. */
Test(shim_config, bash_root_honours_watchdog_0)
{
    env_entries();
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char *envp[] = {preload, reaper_var, "CHROMEREAPER_WATCHDOG=0", "PATH=/usr/bin:/bin", NULL};
    char *argv[] = {"/bin/bash", "-c", "echo $$", NULL};
    int st = run_env(argv, envp, "out", "err");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* 0: a live child; > 0: one that already exited (not yet waited for) */
    pid_t stray = waitpid(-1, NULL, WNOHANG);
    int have_child = stray >= 0;
    if (have_child) {
        /* find it to clean up: the fake reaper's marker names no pid, but
         * the only children left are what bash's constructor started */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        char *kids = ts_slurp(path);
        for (char *p = kids; p && *p && nstrays < 8;) {
            strays[nstrays++] = (pid_t)strtol(p, &p, 10);
            while (*p == ' ')
                p++;
        }
        free(kids);
    }
    ts_remove_registries_of(getuid(), last_pid);
    cr_assert_not(have_child, "a watchdog was started despite CHROMEREAPER_WATCHDOG=0");
}

/* The library copied where no chromereaper binary lies next to it: a
 * root then warns that it has no watchdog. */
static const char *lonely_library(void)
{
    const char *copy = in_tmp("libchromereaper.so");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp %s %s", ts_build("libchromereaper.so"), copy);
    cr_assert_eq(system(cmd), 0);
    return copy;
}

/* CHROMEREAPER_LOG=error under bash: the missing-watchdog warning is not
 * printed (and without it, it is). */
Test(shim_config, bash_root_honours_chromereaper_log)
{
    char lonely[600];
    snprintf(lonely, sizeof lonely, "LD_PRELOAD=%s", lonely_library());
    char *argv[] = {"/bin/bash", "-c", "echo $$; /bin/true", NULL};
    char *loud[] = {lonely, "PATH=/usr/bin:/bin", NULL};
    int st = run_env(argv, loud, "out", "err");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ts_remove_registries_of(getuid(), last_pid);
    char *err = slurp_tmp("err");
    cr_assert_not_null(strstr(err, "no watchdog"), "no warning to silence: %s", err);
    free(err);

    char *quiet[] = {lonely, "CHROMEREAPER_LOG=error", "PATH=/usr/bin:/bin", NULL};
    st = run_env(argv, quiet, "out", "err");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ts_remove_registries_of(getuid(), last_pid);
    err = slurp_tmp("err");
    cr_expect_str_eq(err, "", "CHROMEREAPER_LOG=error was not honoured");
    free(err);
}

/* env(1) prints its own environment: under the library it is the one it
 * was given, as a session root and when the library cannot track. */
static void assert_env_unchanged(char *const envp[])
{
    char *argv[] = {"/usr/bin/env", NULL};
    int st = run_env(argv, envp, "out", "err");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char expected[4096] = "";
    for (int i = 0; envp[i]; i++) {
        strcat(expected, envp[i]);
        strcat(expected, "\n");
    }
    char *out = slurp_tmp("out");
    cr_expect_str_eq(out, expected, "the library changed the host's own environment");
    free(out);
}

Test(shim_config, no_variable_added_when_the_registry_is_unusable)
{
    env_entries();
    char *envp[] = {preload, "CHROMEREAPER_SESSION=crtest-no-such-session", "PATH=/usr/bin:/bin", NULL};
    assert_env_unchanged(envp);
    char *err = slurp_tmp("err");
    cr_expect_not_null(strstr(err, "not tracking"), "no warning: %s", err);
    free(err);
}

Test(shim_config, no_variable_added_to_a_session_root)
{
    env_entries();
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char *envp[] = {preload, "CHROMEREAPER_WATCHDOG=0", "PATH=/usr/bin:/bin", NULL};
    assert_env_unchanged(envp);
    cr_expect_eq(ts_remove_registries_of(getuid(), last_pid), 1, "env(1) did not become a session root");
}

/* A watchdog binary that is there and executable but cannot be exec'd (not
 * a program the kernel can run): the root says so, once. */
Test(shim_config, a_watchdog_that_cannot_start_warns_once)
{
    const char *bad = in_tmp("not-a-program");
    FILE *f = fopen(bad, "w");
    cr_assert_not_null(f);
    fputs("\x01\x02 not an executable format\n", f);
    fclose(f);
    chmod(bad, 0755);
    char preload[600], reaper[600];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", ts_build("libchromereaper.so"));
    snprintf(reaper, sizeof reaper, "CHROMEREAPER_REAPER=%s", bad);
    char *envp[] = {preload, reaper, "PATH=/usr/bin:/bin", NULL};
    char *argv[] = {"/bin/true", NULL};
    int st = run_env(argv, envp, "out", "err");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ts_remove_registries_of(getuid(), last_pid);
    char *err = slurp_tmp("err");
    int lines = 0;
    for (const char *p = err; (p = strstr(p, "chromereaper:")) != NULL; p++)
        lines++;
    cr_expect_eq(lines, 1, "expected one warning, got:\n%s", err);
    cr_expect_not_null(strstr(err, "watchdog"), "%s", err);
    free(err);
}
