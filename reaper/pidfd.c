#include "pidfd.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The first version of the kernel's struct pidfd_info (64 bytes, Linux
 * 6.13): the headers of the distributions we build on predate it. */
struct pidfd_info_v0 {
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
};

#define PIDFD_INFO_PID_ (1ull << 0)
#define PIDFD_INFO_CREDS_ (1ull << 1)
#define PIDFD_GET_INFO_ _IOWR(0xFF, 11, struct pidfd_info_v0)

int pidfd_pin(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int pidfd_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
    (void)pidfd;
    (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}

int pidfd_uid(int pidfd, uid_t *uid, pid_t *ppid)
{
    struct pidfd_info_v0 info = {.mask = PIDFD_INFO_PID_ | PIDFD_INFO_CREDS_};
    if (ioctl(pidfd, PIDFD_GET_INFO_, &info) < 0)
        return -1;
    if (!(info.mask & PIDFD_INFO_CREDS_)) {
        errno = EINVAL;
        return -1;
    }
    *uid = (uid_t)info.ruid;
    if (ppid)
        *ppid = (pid_t)info.ppid; /* PIDFD_INFO_PID is always answered */
    return 0;
}

int pidfd_exited(int pidfd)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}
