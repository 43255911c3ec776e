/* pidfds: a descriptor that names one process for as long as it is held,
 * whatever pid the kernel hands out meanwhile.  The reaper pins what it
 * looks at with one, signals through it and learns its death from it. */
#ifndef CHROMEREAPER_PIDFD_H
#define CHROMEREAPER_PIDFD_H

#include <sys/types.h>

/* A pidfd on process `pid`, close-on-exec; -1 with errno (ESRCH: no such
 * process; ENOSYS: a kernel without pidfds, before 5.3). */
int pidfd_pin(pid_t pid);

/* Sends `sig` to the pinned process; 0, or -1 with errno (ESRCH: it exited). */
int pidfd_signal(int pidfd, int sig);

/* The real uid and the parent of the pinned process, from the kernel's
 * PIDFD_GET_INFO (Linux 6.13); ppid may be NULL.  0 on success: the
 * process had not been reaped when the kernel answered, so it still held
 * its pid.  -1 with errno ESRCH if it has been reaped since it was pinned
 * (its pid may be another's now), or ENOTTY/EINVAL on kernels without the
 * ioctl. */
int pidfd_uid(int pidfd, uid_t *uid, pid_t *ppid);

/* 1 if the pinned process has exited (a zombie included), 0 if not. */
int pidfd_exited(int pidfd);

#endif
