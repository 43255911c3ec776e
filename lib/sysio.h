/* The system calls that find and read a registry (lib/registry.c), made
 * directly on x86_64 in the shim's copy of lib/ (CR_DIRECT_SYSCALLS, set by
 * the Makefile for it).  Every new image in a session reads its exec record
 * through them in its constructor, where each libc wrapper would cost a
 * lazy binding and the page of libc's text it is on (7 us of an exec
 * here).  errno is set as libc sets it.  Elsewhere, libc's own. */
#ifndef CHROMEREAPER_SYSIO_H
#define CHROMEREAPER_SYSIO_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(CR_DIRECT_SYSCALLS) && defined(__x86_64__)
#define CR_HAVE_DIRECT_SYSCALLS 1

/* The raw system call: -errno on failure, errno untouched. */
static inline long cr_syscall(long n, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long cr_syscall_errno(long ret)
{
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

static inline int cr_open(const char *path, int flags)
{
    return (int)cr_syscall_errno(cr_syscall(SYS_openat, AT_FDCWD, (long)path, flags, 0));
}

static inline int cr_fstat(int fd, struct stat *st)
{
    return (int)cr_syscall_errno(cr_syscall(SYS_fstat, fd, (long)st, 0, 0));
}

static inline ssize_t cr_pread(int fd, void *buf, size_t len, off_t at)
{
    return cr_syscall_errno(cr_syscall(SYS_pread64, fd, (long)buf, (long)len, (long)at));
}

static inline int cr_close(int fd)
{
    return (int)cr_syscall_errno(cr_syscall(SYS_close, fd, 0, 0, 0));
}
#else
static inline int cr_open(const char *path, int flags) { return open(path, flags); }
static inline int cr_fstat(int fd, struct stat *st) { return fstat(fd, st); }
static inline ssize_t cr_pread(int fd, void *buf, size_t len, off_t at) { return pread(fd, buf, len, at); }
static inline int cr_close(int fd) { return close(fd); }
#endif

#endif
