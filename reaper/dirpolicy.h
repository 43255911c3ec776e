/* Which directories a reap may delete: a small pure function over facts the
 * kernel gives (reaper/dirfacts.c gathers them).  A directory record is a
 * claim written by some process of the session, possibly a renderer that
 * runs untrusted pages; it only says where to look.  A directory goes only
 * when all of these hold:
 *   - the filesystem says when it was made (statx STATX_BTIME), and that
 *     was after the session's registry was made: nothing older is the
 *     session's;
 *   - it lies below a temporary directory ($TMPDIR, /tmp, /dev/shm);
 *   - a browser of the session was seen using it as --user-data-dir (on a
 *     live process's command line, matched by (dev, inode)), or it bears a
 *     name browsers, drivers and automation libraries give the temporary
 *     directories they make for a browser;
 *   - there is a (dev, inode) to check it by at delete time, recorded when
 *     it was made or launched with, or seen on the browser's command line;
 *   - no live process but the session's own uses it (working directory,
 *     open file, --user-data-dir on its command line);
 *   - in a round's reap (the bot still lives), a round's process made it
 *     (mkdtemp) after the round began: a --user-data-dir, or anything
 *     older than the round, is the bot's to reuse until it is gone.
 * Owner, symlinks, mounts and the identity itself are checked again on the
 * file descriptors the removal uses (rmtree.h). */
#ifndef CHROMEREAPER_DIRPOLICY_H
#define CHROMEREAPER_DIRPOLICY_H

#include <stdint.h>
#include <sys/types.h>

#include "tempname.h"

struct dir_facts {
    int birth_known;      /* the filesystem reports creation times */
    int born_in_session;  /* created after the session's registry */
    int in_temp_dir;
    int given_to_browser; /* seen as a live browser's --user-data-dir */
    int known_name;       /* a browser's or an automation library's temp-dir name */
    int identity;         /* a (dev, inode) to check at delete time */
    pid_t used_by;        /* a live process not the session's uses it, or 0 */
    int round_reap;       /* the reap of one driver round: the bot lives */
    int made_by_round;    /* mkdtemp'd by a process of that round, after it began */
};

enum dir_verdict {
    DIR_REMOVE = 0,
    DIR_KEEP_BIRTH_UNKNOWN,
    DIR_KEEP_OLDER_THAN_SESSION,
    DIR_KEEP_NOT_TEMPORARY,
    DIR_KEEP_NEVER_GIVEN,
    DIR_KEEP_NO_IDENTITY,
    DIR_KEEP_IN_USE,
    DIR_KEEP_UNTIL_SESSION_ENDS,
};

enum dir_verdict dir_policy(const struct dir_facts *f);

/* Was a directory provably made after a process started?  `birth_ns`: its
 * creation time on the wall clock, in nanoseconds, as the filesystem
 * stamps it (from a clock that lags, never leads, the real moment).
 * `start_ticks`: the process's start in clock ticks after boot (/proc's
 * field 22, `hz` ticks a second): it started somewhere within that tick.
 * `boot_wall_ns`: the wall clock at boot.  Only a directory born at or
 * after the end of the start tick is provably younger: one born within
 * the tick may be older by up to a tick.  Pure. */
int dir_born_after_start(int64_t birth_ns, uint64_t start_ticks, long hz, int64_t boot_wall_ns);

/* Why a directory is kept, for the report ("" for DIR_REMOVE). */
const char *dir_verdict_why(enum dir_verdict v);

#endif
