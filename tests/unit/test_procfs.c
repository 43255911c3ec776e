/* lib/procfs.c against real processes: this one, and children in known
 * states (stopped, zombie, reaped, renamed, exec'd with a given environment). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "unit_support.h"

TestSuite(procfs, .fini = ut_cleanup);

/* Field 22 of /proc/<pid>/stat, parsed independently of lib/procfs.c. */
static unsigned long long starttime_by_stdio(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "re");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    cr_assert_not_null(p);
    /* after ") ": state (3) then fields 4..22 */
    unsigned long long v = 0;
    int field = 3;
    for (char *tok = strtok(p + 2, " "); tok; tok = strtok(NULL, " "), field++) {
        if (field == 22) {
            v = strtoull(tok, NULL, 10);
            break;
        }
    }
    cr_assert_eq(field, 22, "stat of %ld has too few fields", (long)pid);
    return v;
}

/* A child stopped by SIGSTOP (state T), waited for with WUNTRACED. */
static pid_t stopped_child(void)
{
    pid_t pid = ut_fork();
    if (pid == 0) {
        raise(SIGSTOP);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, WUNTRACED), pid);
    cr_assert(WIFSTOPPED(status));
    return pid;
}

Test(procfs, stat_self)
{
    struct proc_stat a, b;
    memset(&a, 0xff, sizeof a);
    memset(&b, 0xff, sizeof b);
    cr_assert_eq(proc_stat_read(0, &a), 0, "%s", strerror(errno));
    cr_assert_eq(proc_stat_read(getpid(), &b), 0, "%s", strerror(errno));
    cr_expect_eq(a.ppid, getppid());
    cr_expect_eq(b.ppid, getppid());
    cr_expect_eq(a.state, 'R', "reading its own stat, a process is running");
    cr_expect_eq(b.state, 'R');
    cr_expect_gt(a.start_time, 0u, "start time must be parsed");
    cr_expect_eq(a.start_time, b.start_time, "self and getpid() agree");
    cr_expect_eq(a.start_time, starttime_by_stdio(getpid()));

    /* the parent is older (or as old) */
    struct proc_stat parent;
    cr_assert_eq(proc_stat_read(getppid(), &parent), 0);
    cr_expect_leq(parent.start_time, a.start_time);
}

Test(procfs, stat_of_stopped_child)
{
    struct proc_stat self, child;
    cr_assert_eq(proc_stat_read(0, &self), 0);
    pid_t pid = stopped_child();
    cr_assert_eq(proc_stat_read(pid, &child), 0, "%s", strerror(errno));
    cr_expect_eq(child.ppid, getpid());
    cr_expect_eq(child.state, 'T');
    cr_expect_gt(child.start_time, 0u);
    cr_expect_geq(child.start_time, self.start_time, "a child does not start before its parent");
    cr_expect_eq(child.start_time, starttime_by_stdio(pid));
    ut_kill_wait(pid);
}

/* A child that runs `prepare` (if any), says so, and waits forever. */
static pid_t fork_paused(void (*prepare)(void))
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = ut_fork();
    if (pid == 0) {
        close(ready[0]);
        if (prepare)
            prepare();
        char c = 'r';
        ut_write_all(ready[1], &c, 1);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    cr_assert_eq(ut_read_all(ready[0], &c, 1), 0);
    close(ready[0]);
    return pid;
}

Test(procfs, stat_of_sleeping_child)
{
    pid_t pid = fork_paused(NULL);
    struct proc_stat st;
    cr_assert_eq(proc_stat_read(pid, &st), 0);
    cr_expect_eq(st.ppid, getpid());
    cr_expect(st.state == 'S' || st.state == 'R', "state %c", st.state);
    cr_expect_eq(st.start_time, starttime_by_stdio(pid));
    ut_kill_wait(pid);
}

Test(procfs, zombie_and_reaped_child)
{
    pid_t pid = ut_fork();
    if (pid == 0)
        _exit(3);
    /* wait until it is a zombie, without reaping it */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    struct proc_stat st;
    cr_assert_eq(proc_stat_read(pid, &st), 0, "a zombie still has a stat");
    cr_expect_eq(st.state, 'Z');
    cr_expect_eq(st.ppid, getpid());
    cr_expect_gt(st.start_time, 0u);
    uid_t uid;
    cr_expect_eq(proc_uid_read(pid, &uid), 0);
    cr_expect_eq(uid, getuid());

    int status = ut_wait(pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);

    /* reaped: gone, and reported as gone */
    errno = 0;
    cr_expect_eq(proc_stat_read(pid, &st), -1);
    cr_expect(errno == ENOENT || errno == ESRCH, "errno %d (%s)", errno, strerror(errno));
    errno = 0;
    cr_expect_eq(proc_uid_read(pid, &uid), -1);
    cr_expect(errno == ENOENT || errno == ESRCH, "errno %d (%s)", errno, strerror(errno));
    char buf[64];
    size_t len;
    cr_expect_eq(proc_file_read(pid, "cmdline", buf, sizeof buf, &len), -1);
    cr_expect_eq(proc_environ_has(pid, "A=b"), -1);
    char exe[PATH_MAX];
    cr_expect_eq(proc_exe_read(pid, exe, sizeof exe), -1);
    cr_expect_str_eq(exe, "");
}

/* comm may hold spaces and parentheses: parsing must start after the last
 * ')', or the fields shift (a comm of ") Z 1 ..." would fake a zombie). */
Test(procfs, stat_with_hostile_comm)
{
    static const char *const names[] = {"a) b (c", ") Z 1 2 3 4 5 6", "((((", "))))", "x)", " "};
    const size_t n = sizeof names / sizeof *names;

    pid_t pid = ut_fork();
    if (pid == 0) {
        raise(SIGSTOP);
        for (size_t i = 0; i < n; i++) {
            prctl(PR_SET_NAME, names[i]);
            raise(SIGSTOP);
        }
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, WUNTRACED), pid);
    cr_assert(WIFSTOPPED(status));
    struct proc_stat before;
    cr_assert_eq(proc_stat_read(pid, &before), 0);
    cr_expect_eq(before.start_time, starttime_by_stdio(pid));

    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(kill(pid, SIGCONT), 0);
        cr_assert_eq(waitpid(pid, &status, WUNTRACED), pid);
        cr_assert(WIFSTOPPED(status), "child ended early");

        char comm[64], want[64];
        size_t len;
        cr_assert_eq(proc_file_read(pid, "comm", comm, sizeof comm, &len), 0);
        snprintf(want, sizeof want, "%s\n", names[i]);
        cr_assert_str_eq(comm, want, "the child was renamed");

        struct proc_stat st;
        memset(&st, 0, sizeof st);
        cr_assert_eq(proc_stat_read(pid, &st), 0, "comm \"%s\": %s", names[i], strerror(errno));
        cr_expect_eq(st.state, 'T', "comm \"%s\": state %c", names[i], st.state);
        cr_expect_eq(st.ppid, getpid(), "comm \"%s\": ppid %d", names[i], (int)st.ppid);
        cr_expect_eq(st.start_time, before.start_time, "comm \"%s\"", names[i]);
    }
    ut_kill_wait(pid);
}

Test(procfs, uid)
{
    uid_t a = (uid_t)-1, b = (uid_t)-1, c = (uid_t)-1;
    cr_assert_eq(proc_uid_read(0, &a), 0);
    cr_assert_eq(proc_uid_read(getpid(), &b), 0);
    cr_expect_eq(a, getuid());
    cr_expect_eq(b, getuid());
    pid_t pid = stopped_child();
    cr_assert_eq(proc_uid_read(pid, &c), 0);
    cr_expect_eq(c, getuid());
    ut_kill_wait(pid);
}

Test(procfs, path)
{
    char buf[64];
    cr_assert_eq(proc_path(buf, sizeof buf, 123, "stat"), 0);
    cr_expect_str_eq(buf, "/proc/123/stat");
    cr_assert_eq(proc_path(buf, sizeof buf, 0, "exe"), 0);
    cr_expect_str_eq(buf, "/proc/self/exe");
    cr_assert_eq(proc_path(buf, sizeof buf, -5, "environ"), 0);
    cr_expect_str_eq(buf, "/proc/self/environ", "non-positive pids mean self");
    cr_assert_eq(proc_path(buf, sizeof buf, INT_MAX, "status"), 0);
    cr_expect_str_eq(buf, "/proc/2147483647/status");
    cr_assert_eq(proc_path(buf, sizeof buf, 1, "task/1/stat"), 0);
    cr_expect_str_eq(buf, "/proc/1/task/1/stat");

    static const char want[] = "/proc/4242/cmdline";
    char exact[sizeof want];
    cr_expect_eq(proc_path(exact, sizeof exact, 4242, "cmdline"), 0, "exact fit");
    cr_expect_str_eq(exact, want);
    memset(exact, '#', sizeof exact);
    cr_expect_eq(proc_path(exact, sizeof exact - 1, 4242, "cmdline"), -1, "one byte short");
    cr_expect_eq(strlen(exact), sizeof exact - 2, "truncated but terminated");
    cr_expect_eq(proc_path(exact, 3, 4242, "cmdline"), -1);
}

Test(procfs, file_read)
{
    char name[17] = "", buf[64];
    size_t len = 999;
    cr_assert_eq(prctl(PR_GET_NAME, name), 0);
    cr_assert_eq(proc_file_read(0, "comm", buf, sizeof buf, &len), 0);
    cr_expect_eq(len, strlen(name) + 1);
    cr_expect_eq(strncmp(buf, name, strlen(name)), 0);
    cr_expect_eq(buf[len - 1], '\n');
    cr_expect_eq(buf[len], '\0');

    /* truncated to the buffer, and terminated */
    char small[4];
    memset(small, '#', sizeof small);
    cr_assert_eq(proc_file_read(0, "status", small, sizeof small, &len), 0);
    cr_expect_eq(len, 3u);
    cr_expect_str_eq(small, "Nam");
    cr_assert_eq(proc_file_read(0, "status", small, 1, NULL), 0, "len may be NULL");
    cr_expect_str_eq(small, "");

    cr_expect_eq(proc_file_read(0, "status", small, 0, &len), -1, "no room for the NUL");
    errno = 0;
    cr_expect_eq(proc_file_read(0, "no-such-file", buf, sizeof buf, &len), -1);
    cr_expect_eq(errno, ENOENT);
    char longname[128];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_expect_eq(proc_file_read(0, longname, buf, sizeof buf, &len), -1);
}

Test(procfs, exe_self)
{
    char exe[PATH_MAX], want[PATH_MAX];
    cr_assert_eq(proc_exe_read(0, exe, sizeof exe), 0);
    cr_expect_eq(exe[0], '/', "absolute: %s", exe);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    cr_assert_not_null(execfn);
    cr_assert_not_null(realpath(execfn, want), "%s: %s", execfn, strerror(errno));
    cr_expect_str_eq(exe, want);
    struct stat a, b;
    cr_assert_eq(stat(exe, &a), 0);
    cr_assert_eq(stat("/proc/self/exe", &b), 0);
    cr_expect(a.st_dev == b.st_dev && a.st_ino == b.st_ino, "%s is not this binary", exe);

    char again[PATH_MAX];
    cr_assert_eq(proc_exe_read(getpid(), again, sizeof again), 0);
    cr_expect_str_eq(again, exe);
}

/* fork + execve(argv[0], argv, envp); returns once the exec has happened
 * (the close-on-exec pipe reads EOF). */
static pid_t spawn_env(char *const argv[], char *const envp[])
{
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = ut_fork();
    if (pid == 0) {
        close(p[0]);
        execve(argv[0], argv, envp);
        int e = errno;
        ut_write_all(p[1], &e, sizeof e);
        _exit(127);
    }
    close(p[1]);
    int e = 0;
    int rc = ut_read_all(p[0], &e, sizeof e);
    close(p[0]);
    cr_assert_neq(rc, 0, "execve %s: %s", argv[0], strerror(e));
    return pid;
}

static char *const sleep_argv[] = {"/bin/sleep", "1000", NULL};

Test(procfs, exe_of_execd_child)
{
    char *const envp[] = {"A=1", NULL};
    pid_t pid = spawn_env(sleep_argv, envp);
    char exe[PATH_MAX], want[PATH_MAX];
    cr_assert_eq(proc_exe_read(pid, exe, sizeof exe), 0);
    cr_assert_not_null(realpath("/bin/sleep", want));
    cr_expect_str_eq(exe, want);
    ut_kill_wait(pid);
}

Test(procfs, environ_has)
{
    char *const envp[] = {"PATH=/usr/bin:/bin", "CHROMEREAPER_SESSION=abc", "EMPTY=",
                          "LAST=1", NULL};
    pid_t pid = spawn_env(sleep_argv, envp);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abc"), 1);
    cr_expect_eq(proc_environ_has(pid, "PATH=/usr/bin:/bin"), 1, "first entry");
    cr_expect_eq(proc_environ_has(pid, "LAST=1"), 1, "last entry");
    cr_expect_eq(proc_environ_has(pid, "EMPTY="), 1, "empty value");
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abcd"), 0, "longer value");
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=ab"), 0, "a prefix of the entry");
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION="), 0);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION"), 0);
    cr_expect_eq(proc_environ_has(pid, "HROMEREAPER_SESSION=abc"), 0, "a suffix of the entry");
    cr_expect_eq(proc_environ_has(pid, "XCHROMEREAPER_SESSION=abc"), 0);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abc\nX"), 0);
    cr_expect_eq(proc_environ_has(pid, "EMPTY"), 0);
    ut_kill_wait(pid);
}

Test(procfs, environ_has_no_partial_matches)
{
    char *const longer[] = {"CHROMEREAPER_SESSION=abcd", NULL};
    pid_t pid = spawn_env(sleep_argv, longer);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abc"), 0, "value is longer");
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abcd"), 1);
    ut_kill_wait(pid);

    char *const prefixed[] = {"MY_CHROMEREAPER_SESSION=abc", "XCHROMEREAPER_SESSION=abc", NULL};
    pid = spawn_env(sleep_argv, prefixed);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abc"), 0, "name has a prefix");
    ut_kill_wait(pid);

    char *const none[] = {NULL};
    pid = spawn_env(sleep_argv, none);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abc"), 0, "empty environment");
    ut_kill_wait(pid);
}

Test(procfs, environ_has_beyond_4096_bytes)
{
    /* one big entry first: the cookie lies well past the first 4096 bytes */
    static char filler[6000];
    memcpy(filler, "FILLER=", 7);
    memset(filler + 7, 'x', sizeof filler - 8);
    filler[sizeof filler - 1] = '\0';
    char *const big[] = {filler, "CHROMEREAPER_SESSION=abc", NULL};
    pid_t pid = spawn_env(sleep_argv, big);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abc"), 1);
    cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=abcd"), 0);
    cr_expect_eq(proc_environ_has(pid, filler), 1, "an entry longer than the read buffer");
    ut_kill_wait(pid);

    /* the cookie straddles the 4096-byte boundary, at every offset around it */
    static const char cookie[] = "CHROMEREAPER_SESSION=abc";
    for (size_t start = 4096 - sizeof cookie; start <= 4096; start += 3) {
        static char pad[4200];
        /* pad + NUL occupies bytes [0, start) */
        memset(pad, 'p', sizeof pad);
        memcpy(pad, "P=", 2);
        pad[start - 1] = '\0';
        char *const straddle[] = {pad, (char *)cookie, "Z=z", NULL};
        pid = spawn_env(sleep_argv, straddle);
        cr_expect_eq(proc_environ_has(pid, cookie), 1, "cookie at byte %zu", start);
        cr_expect_eq(proc_environ_has(pid, "CHROMEREAPER_SESSION=ab"), 0, "at byte %zu", start);
        cr_expect_eq(proc_environ_has(pid, "Z=z"), 1);
        ut_kill_wait(pid);
    }

    /* many small entries, the cookie last */
    enum { N = 2000 };
    static char vars[N][16];
    static char *many[N + 2];
    for (int i = 0; i < N; i++) {
        snprintf(vars[i], sizeof vars[i], "V%d=%d", i, i);
        many[i] = vars[i];
    }
    many[N] = (char *)cookie;
    many[N + 1] = NULL;
    pid = spawn_env(sleep_argv, many);
    cr_expect_eq(proc_environ_has(pid, cookie), 1);
    cr_expect_eq(proc_environ_has(pid, "V1999=1999"), 1);
    cr_expect_eq(proc_environ_has(pid, "V2000=2000"), 0);
    ut_kill_wait(pid);
}

static int nspid_fields(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "re");
    cr_assert_not_null(f);
    int fields = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "NSpid:", 6) == 0) {
            fields = 0;
            for (char *t = strtok(line + 6, " \t\n"); t; t = strtok(NULL, " \t\n"))
                fields++;
        }
    }
    fclose(f);
    return fields;
}

Test(procfs, nested_pidns)
{
    int fields = nspid_fields(getpid());
    if (fields < 0)
        cr_skip_test("kernel without NSpid");
    cr_expect_eq(proc_in_nested_pidns(0), fields > 1);
    cr_expect_eq(proc_in_nested_pidns(getpid()), fields > 1);

    /* A: unshares a PID namespace, forks B (pid 1 in it), reports B's pid
     * and waits; on a byte from the parent it kills and reaps B. */
    int up[2], down[2];
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(down), 0);
    pid_t a = ut_fork();
    if (a == 0) {
        close(up[0]);
        close(down[1]);
        pid_t b = -1;
        if (unshare(CLONE_NEWPID) == 0)
            b = fork();
        if (b == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                pause();
        }
        ut_write_all(up[1], &b, sizeof b);
        char c;
        ut_read_all(down[0], &c, 1);
        if (b > 0) {
            kill(b, SIGKILL);
            waitpid(b, NULL, 0);
        }
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    pid_t b = -1;
    int rc = ut_read_all(up[0], &b, sizeof b);
    close(up[0]);
    cr_assert_eq(rc, 0);
    if (b <= 0) {
        close(down[1]);
        ut_wait(a);
        cr_skip_test("cannot create a PID namespace here");
    }
    cr_expect_eq(proc_in_nested_pidns(b), 1, "pid 1 of a child namespace");
    cr_expect_eq(nspid_fields(b), fields + 1);
    struct proc_stat st;
    cr_assert_eq(proc_stat_read(b, &st), 0);
    cr_expect_eq(st.ppid, a, "ppid is the host view");
    cr_expect_eq(proc_in_nested_pidns(a), fields > 1, "A itself stays in our namespace");
    char c = 'q';
    ut_write_all(down[1], &c, 1);
    close(down[1]);
    int status = ut_wait(a);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_expect_eq(proc_in_nested_pidns(b), -1, "gone");
}

Test(procfs, environ_value)
{
    char *const envp[] = {"CHROMEREAPER_SESSIONX=no", "XCHROMEREAPER_SESSION=no", "CHROMEREAPER_SESSION=abc",
                          "CHROMEREAPER_SESSION=second", "EMPTY=", NULL};
    pid_t pid = spawn_env(sleep_argv, envp);
    char v[8];
    cr_expect_eq(proc_environ_value(pid, "CHROMEREAPER_SESSION", v, sizeof v), 3, "the first one counts");
    cr_expect_str_eq(v, "abc");
    cr_expect_eq(proc_environ_value(pid, "EMPTY", v, sizeof v), 0);
    cr_expect_str_eq(v, "");
    cr_expect_eq(proc_environ_value(pid, "MISSING", v, sizeof v), -1);
    char tiny[3];
    cr_expect_eq(proc_environ_value(pid, "CHROMEREAPER_SESSION", tiny, sizeof tiny), 3, "full length, truncated copy");
    cr_expect_str_eq(tiny, "ab");
    ut_kill_wait(pid);
    cr_expect_eq(proc_environ_value(pid, "CHROMEREAPER_SESSION", v, sizeof v), -2, "gone");
}

/* The environment is read 16 KiB at a time: a name or a value that
 * straddles two reads is found and copied whole. */
Test(procfs, environ_value_across_reads)
{
    static const size_t before[] = {1, 5, 20, 21, 22, 24, 25};
    for (size_t k = 0; k < sizeof before / sizeof *before; k++) {
        size_t filler_len = 16384 - before[k]; /* with its NUL */
        char *filler = malloc(filler_len);
        cr_assert_not_null(filler);
        memset(filler, 'x', filler_len - 1);
        memcpy(filler, "F=", 2);
        filler[filler_len - 1] = '\0';
        char *const envp[] = {filler, "CHROMEREAPER_SESSION=abc", "LAST=1", NULL};
        pid_t pid = spawn_env(sleep_argv, envp);
        char v[8];
        cr_expect_eq(proc_environ_value(pid, "CHROMEREAPER_SESSION", v, sizeof v), 3, "%zu bytes before the boundary",
                     before[k]);
        cr_expect_str_eq(v, "abc");
        cr_expect_eq(proc_environ_value(pid, "LAST", v, sizeof v), 1);
        cr_expect_eq(proc_environ_value(pid, "SESSION", v, sizeof v), -1, "a suffix of a name is no name");
        ut_kill_wait(pid);
        free(filler);
    }
}

/* The command line and environment read from the process's memory are
 * what /proc serves: one process as exec made it, and one that rewrote
 * its command line over its environment the way Chrome's children do. */
static void expect_args_env_as_proc(pid_t pid)
{
    struct proc_stat st;
    struct proc_areas a;
    cr_assert_eq(proc_stat_read_areas(pid, &st, &a), 0);
    cr_assert(a.arg_start && a.arg_end > a.arg_start && a.env_start == a.arg_end && a.env_end >= a.env_start);
    static char mem[65536], want_cmd[8192], want_env[65536];
    char cmd[8192];
    const char *env;
    size_t cmdlen, envlen, want_cmdlen, want_envlen;
    cr_assert_eq(proc_args_env_read(pid, &a, mem, sizeof mem, cmd, sizeof cmd, &cmdlen, &env, &envlen), 0);
    cr_assert_eq(proc_file_read(pid, "cmdline", want_cmd, sizeof want_cmd, &want_cmdlen), 0);
    cr_assert_eq(proc_file_read(pid, "environ", want_env, sizeof want_env, &want_envlen), 0);
    cr_expect_eq(cmdlen, want_cmdlen);
    cr_expect(memcmp(cmd, want_cmd, want_cmdlen) == 0, "the command line /proc gives");
    cr_expect_eq(envlen, want_envlen);
    cr_expect(memcmp(env, want_env, want_envlen) == 0, "the environment /proc gives");
    char small[4];
    cr_expect_eq(proc_args_env_read(pid, &a, mem, 16, small, sizeof small, &cmdlen, &env, &envlen), -1,
                 "larger than the buffer: /proc then");
    cr_expect_eq(proc_args_env_read(pid, &a, mem, sizeof mem, small, sizeof small, &cmdlen, &env, &envlen), 0);
    cr_expect_eq(cmdlen, 3, "cut to the copy's size, as one read of /proc would be");
}

/* What Chrome's children do to their command line (setproctitle). */
static void rewrite_title(void)
{
    struct proc_stat st;
    struct proc_areas a;
    if (proc_stat_read_areas(0, &st, &a) == 0 && a.env_end > a.arg_end + 8) {
        char *p = (char *)(uintptr_t)a.arg_start;
        size_t n = (size_t)(a.arg_end - a.arg_start) + 5;
        memset(p, 'T', n);
        p[n] = '\0';
    }
}

Test(procfs, args_env_read_as_proc_serves_them)
{
    char *const envp[] = {"CHROMEREAPER_SESSION=abc", "OTHER=1", NULL};
    pid_t pid = spawn_env(sleep_argv, envp);
    expect_args_env_as_proc(pid);
    ut_kill_wait(pid);

    /* setproctitle: the last argument byte is no NUL any more, and the
     * title runs on into the environment */
    pid_t child = fork_paused(rewrite_title);
    char title[8192];
    size_t len;
    cr_assert_eq(proc_file_read(child, "cmdline", title, sizeof title, &len), 0);
    cr_expect(len > 5 && title[0] == 'T', "rewritten");
    expect_args_env_as_proc(child);
    ut_kill_wait(child);
}

Test(procfs, maps_file)
{
    char path[] = "/tmp/crtest-maps-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 4096), 0);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    cr_expect_eq(proc_maps_file(0, major(st.st_dev), minor(st.st_dev), st.st_ino), 0, "not mapped yet");
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_expect_eq(proc_maps_file(0, major(st.st_dev), minor(st.st_dev), st.st_ino), 1);
    cr_expect_eq(proc_maps_file(0, major(st.st_dev), minor(st.st_dev), st.st_ino + 1), 0, "another inode");
    munmap(m, 4096);
    close(fd);
    unlink(path);
}
