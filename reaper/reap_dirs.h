/* The directory half of a reap: each directory record in scope through the
 * rule of dirpolicy.h, on facts the kernel gives, then removed (rmtree.h).
 * When root reaps another uid's session, all of it runs in a child that has
 * become that uid: nothing is removed that the uid could not remove itself. */
#ifndef CHROMEREAPER_REAP_DIRS_H
#define CHROMEREAPER_REAP_DIRS_H

#include <stddef.h>
#include <sys/types.h>

#include "reap.h"

struct dirseen;
struct tracked_dir;

struct reap_dirs_in {
    const struct session *s;
    const struct reap_options *opt;
    const struct dirseen *seen; /* profiles this reap saw on the browsers it killed */
    const pid_t *reaped;        /* the session's processes: not users of its directories */
    size_t nreaped;
    int blocked;                /* processes survived: nothing is removed */
};

/* Fills out[i] for dirs[i]. */
void reap_dirs(const struct reap_dirs_in *in, struct tracked_dir **dirs, size_t n, struct dir_result *out);

#endif
