/* The system calls of the record path, made directly on x86_64: a fork
 * child about to exec has mapped none of libc's text but what its fork
 * ran, and each libc wrapper it is the first to call (and the vDSO, and
 * errno's accessor) costs it a page fault, 2-3 us in a VM; and each one a
 * new image's constructor calls first costs it a lazy binding.  These
 * never touch errno.  Elsewhere (and in a build without
 * CR_DIRECT_SYSCALLS: lib/sysio.h), libc's, with errno put back. */
#ifndef CHROMEREAPER_SHIM_RAWSYS_H
#define CHROMEREAPER_SHIM_RAWSYS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "sysio.h"

#if defined(CR_HAVE_DIRECT_SYSCALLS)
static inline long shim_raw_syscall(long n, long a, long b, long c)
{
    return cr_syscall(n, a, b, c, 0);
}

static inline pid_t shim_getpid(void) { return (pid_t)shim_raw_syscall(SYS_getpid, 0, 0, 0); }
static inline pid_t shim_getppid(void) { return (pid_t)shim_raw_syscall(SYS_getppid, 0, 0, 0); }
static inline uid_t shim_getuid(void) { return (uid_t)shim_raw_syscall(SYS_getuid, 0, 0, 0); }

static inline int shim_mincore(void *addr, size_t len, unsigned char *vec)
{
    return shim_raw_syscall(SYS_mincore, (long)addr, (long)len, (long)vec) == 0 ? 0 : -1;
}

/* CLOCK_BOOTTIME in ns by the system call (no vDSO page), 0 on failure. */
static inline uint64_t shim_boottime_raw_ns(void)
{
    struct timespec ts;
    if (shim_raw_syscall(SYS_clock_gettime, CLOCK_BOOTTIME, (long)&ts, 0) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#else
static inline pid_t shim_getpid(void) { return getpid(); }
static inline pid_t shim_getppid(void) { return getppid(); }
static inline uid_t shim_getuid(void) { return getuid(); }

static inline int shim_mincore(void *addr, size_t len, unsigned char *vec)
{
    int saved = errno, rc = mincore(addr, len, vec);
    errno = saved;
    return rc;
}

static inline uint64_t shim_boottime_raw_ns(void)
{
    int saved = errno;
    struct timespec ts;
    uint64_t ns = clock_gettime(CLOCK_BOOTTIME, &ts) == 0
                      ? (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec
                      : 0;
    errno = saved;
    return ns;
}
#endif

#endif
