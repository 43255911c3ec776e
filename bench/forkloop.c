/* B1/B2: `forkloop exec N` forks N children that exec /bin/true, waiting
 * for each; `forkloop fork N` forks N children that _exit(0) at once.
 * Prints the elapsed wall time in nanoseconds.  Run it with and without a
 * preload library: the shim's fork/exec wrappers and its constructor in
 * /bin/true are what differs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "fork") != 0)) {
        fprintf(stderr, "usage: forkloop exec|fork N\n");
        return 2;
    }
    int do_exec = strcmp(argv[1], "exec") == 0;
    long n = strtol(argv[2], NULL, 10);
    char *const targv[] = {"true", NULL};
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            if (do_exec)
                execv("/bin/true", targv);
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "forkloop: child %d failed\n", (int)pid);
            return 1;
        }
    }
    printf("%lld\n", now_ns() - t0);
    return 0;
}
