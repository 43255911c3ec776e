/* What `ls` shows of CHROMEREAPER_CHROME_FLAGS: the switches of the
 * variable, as the live process's own environment holds it, that its
 * command line carries. */
#ifndef CHROMEREAPER_APPLIEDFLAGS_H
#define CHROMEREAPER_APPLIEDFLAGS_H

#include <stddef.h>
#include <sys/types.h>

/* Space-separated into `out` ("" if none, or unreadable); returns how many. */
size_t applied_chrome_flags(pid_t pid, char *out, size_t cap);

#endif
