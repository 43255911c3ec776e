/* Which processes are a browser's, judged by what the kernel says runs
 * (/proc/<pid>/exe), never by argv[0], which any program may set.  The
 * command line only tells a browser's helpers apart (--type=). */
#ifndef CHROMEREAPER_BROWSEREXE_H
#define CHROMEREAPER_BROWSEREXE_H

#include <stddef.h>
#include <sys/types.h>

#include "role.h"

/* The role of a process running executable `exe` (a /proc/<pid>/exe
 * target, " (deleted)" allowed) with command line `cmdline` (NUL-separated,
 * `len` bytes; Chrome's children may join it with spaces): CR_ROLE_OTHER
 * when `exe` is no browser's, driver's or crash handler's.  Pure. */
enum cr_role browserexe_role(const char *exe, const char *cmdline, size_t len);

/* The same for live process `pid`; CR_ROLE_UNKNOWN if it cannot be read. */
enum cr_role browserexe_role_of_pid(pid_t pid);

#endif
