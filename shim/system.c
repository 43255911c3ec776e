/* system(), popen() and pclose().  glibc starts their shell through
 * internal calls that no wrapper sees, with environ as it is: after
 * unsetenv("LD_PRELOAD") that shell, and everything it runs, would be
 * invisible.  So these start /bin/sh themselves through shim_spawn, which
 * puts the session back into the shell's environment (a new array; environ
 * is never written) and records it.  Behaviour is POSIX's:
 *
 * - system(): SIGINT and SIGQUIT ignored and SIGCHLD blocked in the caller
 *   while it waits; the shell gets the caller's signal mask and default
 *   INT/QUIT unless the caller ignored them; the result is the shell's wait
 *   status, as if it exited 127 when it could not be started; system(NULL)
 *   says whether a shell is available.
 * - popen(): "r" or "w", plus "e" for a close-on-exec stream; the shell
 *   gets no stream of an earlier popen() that is still open; pclose() waits
 *   for it and returns its status.  Streams we did not open (the library
 *   was inactive when they were) go to libc's pclose.
 *
 * None of this runs in a vfork child, so malloc and waiting are fine; the
 * two small locks below survive a fork by another thread (see shim_lock). */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

extern char **environ;

#define SHELL_PATH "/bin/sh"

/* The shell's argv, as this libc builds it: glibc passes "--" before the
 * command since 2.38 (a command may start with '-'), not before. */
static void shell_argv(char *argv[5], const char *command)
{
    const char *v = gnu_get_libc_version();
    unsigned long major = strtoul(v, NULL, 10), minor = 0;
    const char *dot = strchr(v, '.');
    if (dot)
        minor = strtoul(dot + 1, NULL, 10);
    int n = 0;
    argv[n++] = "sh";
    argv[n++] = "-c";
    if (major > 2 || (major == 2 && minor >= 38))
        argv[n++] = "--";
    argv[n++] = (char *)command;
    argv[n] = NULL;
}

/* A spin lock whose word holds the holder's pid.  Threads of one process
 * share the pid and wait for each other; a different pid can only be a
 * lock inherited through fork() from a thread that does not exist in this
 * process, and is taken over. */
static void shim_lock(int *word)
{
    int me = (int)getpid();
    for (;;) {
        int seen = 0;
        if (__atomic_compare_exchange_n(word, &seen, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        if (seen != me &&
            __atomic_compare_exchange_n(word, &seen, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        sched_yield();
    }
}

static void shim_unlock(int *word)
{
    __atomic_store_n(word, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ system() */

/* SIGINT and SIGQUIT stay ignored while any thread is inside system() and
 * are restored when the last one leaves, as glibc does: per-call save and
 * restore would let overlapping calls restore each other's SIG_IGN. */
static struct {
    int lock;
    int users;
    int users_pid; /* the process the count is about: a forked child starts over */
    struct sigaction intr, quit; /* what to restore */
} sys_signals;

/* Ignores INT/QUIT for the duration; *reset gets those the shell must have
 * back at their default. */
static void signals_hold(sigset_t *reset)
{
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    shim_lock(&sys_signals.lock);
    int me = (int)getpid(), inherited = 0;
    if (sys_signals.users_pid != me) {
        /* a count inherited through fork: its dispositions are still ours */
        inherited = sys_signals.users > 0;
        sys_signals.users = 0;
        sys_signals.users_pid = me;
    }
    if (sys_signals.users++ == 0) {
        sigaction(SIGINT, &ign, inherited ? NULL : &sys_signals.intr);
        sigaction(SIGQUIT, &ign, inherited ? NULL : &sys_signals.quit);
    }
    sigemptyset(reset);
    if (sys_signals.intr.sa_handler != SIG_IGN)
        sigaddset(reset, SIGINT);
    if (sys_signals.quit.sa_handler != SIG_IGN)
        sigaddset(reset, SIGQUIT);
    shim_unlock(&sys_signals.lock);
}

static void signals_release(void)
{
    shim_lock(&sys_signals.lock);
    if (sys_signals.users > 0 && --sys_signals.users == 0) {
        sigaction(SIGINT, &sys_signals.intr, NULL);
        sigaction(SIGQUIT, &sys_signals.quit, NULL);
    }
    shim_unlock(&sys_signals.lock);
}

static int run_shell(const char *command)
{
    sigset_t chld, old_mask, reset;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    signals_hold(&reset);
    sigprocmask(SIG_BLOCK, &chld, &old_mask);

    posix_spawnattr_t attr;
    int rc = posix_spawnattr_init(&attr);
    pid_t pid = -1;
    if (rc == 0) {
        posix_spawnattr_setsigdefault(&attr, &reset);
        posix_spawnattr_setsigmask(&attr, &old_mask);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        char *argv[5];
        shell_argv(argv, command);
        rc = shim_spawn(SHIM_REAL(posix_spawn), &pid, SHELL_PATH, NULL, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
    }
    int status = W_EXITCODE(127, 0);
    if (rc == 0) {
        pid_t r;
        while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
            ;
        if (r != pid)
            status = -1;
    }
    int saved = errno;
    signals_release();
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    errno = rc ? rc : saved;
    return status;
}

__attribute__((visibility("default"))) int system(const char *command)
{
    if (!shim_active()) {
        int (*real)(const char *) = SHIM_REAL(system);
        if (real)
            return real(command);
    }
    if (!command)
        return run_shell("exit 0") == 0;
    return run_shell(command);
}

/* ------------------------------------------------------------ popen() */

struct popen_child {
    FILE *stream;
    int fd; /* the stream's descriptor, kept: never read from a FILE that may be gone */
    pid_t pid;
    struct popen_child *next;
};

static struct {
    int lock;
    struct popen_child *list;
} popens;

/* The child's record for `stream`, unlinked from the list; NULL if the
 * stream is not one of ours.  Called with the lock held. */
static struct popen_child *popen_take(FILE *stream)
{
    for (struct popen_child **p = &popens.list; *p; p = &(*p)->next) {
        if ((*p)->stream == stream) {
            struct popen_child *c = *p;
            *p = c->next;
            return c;
        }
    }
    return NULL;
}

__attribute__((visibility("default"))) FILE *popen(const char *command, const char *mode)
{
    if (!shim_active()) {
        FILE *(*real)(const char *, const char *) = SHIM_REAL(popen);
        if (real)
            return real(command, mode);
    }
    int reading = 0, writing = 0, cloexec = 0;
    for (const char *m = mode; m && *m; m++) {
        if (*m == 'r')
            reading = 1;
        else if (*m == 'w')
            writing = 1;
        else if (*m == 'e')
            cloexec = 1;
        else
            reading = writing = 1; /* unknown: invalid */
    }
    if (reading == writing || !command) {
        errno = EINVAL;
        return NULL;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return NULL;
    int ours = reading ? fds[0] : fds[1], theirs = reading ? fds[1] : fds[0];
    struct popen_child *c = malloc(sizeof *c);
    FILE *stream = c ? fdopen(ours, reading ? "r" : "w") : NULL;
    if (!stream) {
        int e = errno;
        free(c);
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return NULL;
    }

    posix_spawn_file_actions_t actions;
    int rc = posix_spawn_file_actions_init(&actions);
    shim_lock(&popens.lock);
    /* a stream closed with fclose() instead of pclose() left its record:
     * one that names this FILE again is stale */
    free(popen_take(stream));
    for (struct popen_child *o = popens.list; rc == 0 && o; o = o->next)
        if (o->fd != theirs) /* the number of a stream fclose()d without pclose() */
            rc = posix_spawn_file_actions_addclose(&actions, o->fd);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&actions, theirs, reading ? 1 : 0);
    pid_t pid = -1;
    if (rc == 0) {
        char *argv[5];
        shell_argv(argv, command);
        rc = shim_spawn(SHIM_REAL(posix_spawn), &pid, SHELL_PATH, &actions, NULL, argv, environ);
    }
    if (rc == 0) {
        c->stream = stream;
        c->fd = ours;
        c->pid = pid;
        c->next = popens.list;
        popens.list = c;
    }
    shim_unlock(&popens.lock);
    posix_spawn_file_actions_destroy(&actions);
    close(theirs);
    if (rc != 0) {
        fclose(stream);
        free(c);
        errno = rc;
        return NULL;
    }
    if (!cloexec)
        fcntl(ours, F_SETFD, 0);
    return stream;
}

__attribute__((visibility("default"))) int pclose(FILE *stream)
{
    shim_lock(&popens.lock);
    struct popen_child *c = popen_take(stream);
    shim_unlock(&popens.lock);
    if (!c) {
        int (*real)(FILE *) = SHIM_REAL(pclose);
        if (real)
            return real(stream);
        errno = EINVAL;
        return -1;
    }
    pid_t pid = c->pid;
    free(c);
    fclose(stream);
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    return r == pid ? status : -1;
}
