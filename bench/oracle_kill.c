/* The oracle of B4/B7: given the exact PID list (one per line in FILE),
 * SIGKILL every one of them, then wait until all are dead.  No discovery,
 * no ordering, no identity checks beyond pinning each PID with a pidfd:
 * the least any correct reaper has to do. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: oracle_kill PIDFILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t n = 0, cap = 1024;
    struct pollfd *fds = malloc(cap * sizeof *fds);
    int pid;
    while (fds && fscanf(f, "%d", &pid) == 1) {
        if (n == cap)
            fds = realloc(fds, (cap *= 2) * sizeof *fds);
        if (!fds)
            break;
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
            continue; /* gone already */
        fds[n].fd = fd;
        fds[n].events = POLLIN;
        n++;
        syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
    }
    fclose(f);
    if (!fds)
        return 1;
    size_t alive = n;
    while (alive > 0) {
        if (poll(fds, n, 5000) <= 0)
            return 1;
        for (size_t i = 0; i < n; i++)
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
                close(fds[i].fd);
                fds[i].fd = -1; /* poll ignores negative fds */
                alive--;
            }
    }
    return 0;
}
