/* Minimal reapers over an exact PID list, to measure what bounds B4: each
 * does one more of the things a safe reap must do than the one before, and
 * nothing else (no registry, no plan, no report, no directories).
 *
 *   floor_kill PIDFILE MODE
 *     pin   pidfd_open + SIGKILL each, then wait (oracle_kill's work)
 *     stat  pin, read /proc/PID/stat, SIGSTOP; then SIGKILL all; wait
 *     proc  stat + /proc/PID/environ, readlink exe, /proc/PID/cmdline
 *     mem   what a safe reap reads, as reap reads it: one listing of /proc
 *           (the children no record names are found there, and
 *           ns_last_pid before it and after the last SIGSTOP: unchanged,
 *           nothing was forked that the listing missed), then for each
 *           pid: pidfd, stat (with its memory areas), PIDFD_GET_INFO (the
 *           uid, and the identity check: the pinned process still held
 *           its pid after the stat was read, so the stat is its own),
 *           readlink exe, command line and environment in one
 *           process_vm_readv, SIGSTOP; then SIGKILL all; wait.  Reads
 *           first, kills after: unlike reap, no kill overlaps the reads,
 *           and no SCHED_BATCH (it did not pay here: 154 against 146 ms)
 *
 * PIDs are taken last first (bench_tree numbers its nodes breadth first, so
 * that is leaves first).  Exit status 0 once every process is dead. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidfd.h"
#include "procfs.h"

#define MAX_PIDS 65536

static char buf[65536];

static void read_file(pid_t pid, const char *name)
{
    size_t len;
    proc_file_read(pid, name, buf, sizeof buf, &len);
}

/* The pids /proc lists: what a reap looks through for children. */
static size_t list_proc(void)
{
    DIR *d = opendir("/proc");
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += de->d_name[0] >= '1' && de->d_name[0] <= '9';
    if (d)
        closedir(d);
    return n;
}

static int sig(int fd, int s)
{
    return (int)syscall(SYS_pidfd_send_signal, fd, s, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: floor_kill PIDFILE pin|stat|proc|mem\n");
        return 2;
    }
    const char *mode = argv[2];
    int pin = strcmp(mode, "pin") == 0, proc = strcmp(mode, "proc") == 0, mem = strcmp(mode, "mem") == 0;
    if (!pin && !proc && !mem && strcmp(mode, "stat") != 0) {
        fprintf(stderr, "floor_kill: unknown mode %s\n", mode);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static pid_t pids[MAX_PIDS];
    static struct pollfd fds[MAX_PIDS];
    size_t n = 0;
    int pid;
    while (n < MAX_PIDS && fscanf(f, "%d", &pid) == 1)
        pids[n++] = pid;
    fclose(f);
    long last_pid = mem ? proc_last_pid() : 0;
    if (mem && list_proc() == 0)
        return 1;
    for (size_t k = n; k-- > 0;) {
        int fd = (int)syscall(SYS_pidfd_open, pids[k], 0);
        fds[k] = (struct pollfd){.fd = fd, .events = POLLIN};
        if (fd < 0)
            continue;
        if (pin) {
            sig(fd, SIGKILL);
            continue;
        }
        struct proc_stat st;
        struct proc_areas a;
        proc_stat_read_areas(pids[k], &st, mem ? &a : NULL);
        uid_t uid;
        if (mem && pidfd_uid(fd, &uid, NULL) < 0) {
            close(fd); /* reaped since the pin: nothing of it to kill */
            fds[k].fd = -1;
            continue;
        }
        if (proc || mem) {
            char exe[PATH_MAX];
            proc_exe_read(pids[k], exe, sizeof exe);
        }
        if (proc) {
            read_file(pids[k], "environ");
            read_file(pids[k], "cmdline");
        }
        if (mem) {
            char cmd[8192];
            const char *env;
            size_t cmdlen, envlen;
            proc_args_env_read(pids[k], &a, buf, sizeof buf, cmd, sizeof cmd, &cmdlen, &env, &envlen);
        }
        sig(fd, SIGSTOP);
    }
    /* a reaper would look for what was forked meanwhile; in a bench scene
     * nothing forks, so this only says so */
    if (mem && proc_last_pid() != last_pid)
        fprintf(stderr, "floor_kill: processes were created during the reads\n");
    for (size_t k = n; !pin && k-- > 0;)
        if (fds[k].fd >= 0)
            sig(fds[k].fd, SIGKILL);
    /* one pidfd at a time, as reap waits: a poll over all of them costs n
     * at every death */
    for (size_t k = 0; k < n; k++) {
        if (fds[k].fd < 0)
            continue;
        if (poll(&fds[k], 1, 5000) <= 0)
            return 1;
        close(fds[k].fd);
    }
    return 0;
}
