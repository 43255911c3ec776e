/* Which directories a live process uses: its working directory, an open
 * file, or a --user-data-dir on its command line lies in them.  A profile a
 * browser is using (the next round's, when a bot reuses one) is never
 * removed under it. */
#ifndef CHROMEREAPER_DIRUSERS_H
#define CHROMEREAPER_DIRUSERS_H

#include <stddef.h>
#include <sys/types.h>

/* For each of the n absolute `dirs`, used_by[i] receives the pid of a live
 * process (other than this one and the n_skip pids in `skip`, which are
 * being reaped) that uses it, or 0.  Processes whose /proc entries we
 * cannot read (another uid's, for a non-root reaper) are not looked at. */
void dir_users_scan(const char *const *dirs, size_t n, pid_t *used_by, const pid_t *skip, size_t n_skip);

#endif
