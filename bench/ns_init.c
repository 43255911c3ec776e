/* PID 1 of the bench's PID namespace (started by `unshare --pid --fork
 * --mount-proc`): runs the bench driver, reaps every orphan the namespace
 * collects (as tini does), forwards INT/TERM/HUP to the driver, and exits
 * with the driver's status.  When it exits the kernel SIGKILLs everything
 * left in the namespace: nothing the bench started can outlive it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t pending;

static void on_signal(int sig) { pending = sig; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ns_init CMD [ARG...]\n");
        return 2;
    }
    if (getpid() != 1)
        fprintf(stderr, "ns_init: warning: not PID 1 of a namespace\n");
    /* die with the shell that started unshare */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    pid_t child = fork();
    if (child < 0) {
        perror("ns_init: fork");
        return 1;
    }
    if (child == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "ns_init: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid == child)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (pid < 0 && errno == EINTR && pending) {
            kill(child, pending);
            pending = 0;
        } else if (pid < 0 && errno == ECHILD) {
            return 1;
        }
    }
}
