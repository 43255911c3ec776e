/* Leftovers of sessions whose supervisor and watchdog both died (SIGKILL,
 * OOM, a reboot of nothing but the machine's tmpfs...) are reaped by the
 * next session at the latest: each new watchdog sweeps its uid's stale
 * sessions first, without cron. */
#ifndef CHROMEREAPER_SWEEP_H
#define CHROMEREAPER_SWEEP_H

#include <stdint.h>

#include "session.h"

/* Reaps the stale sessions of `uid` other than `own` that are at least a
 * minute old (younger ones may be another tool's work in progress, and
 * their own watchdog is still on it).  Never waits for a session another
 * reaper holds, and never acts on one it cannot load. */
void sweep_stale_sessions(uint32_t uid, const char *own);

#endif
