/* The pids /proc lists at one moment, for cheap "certainly dead" answers:
 * a process that was alive when the list was taken is in it, so a recorded
 * process whose pid is not listed died before (a process cannot come back),
 * and only the listed ones need their stat read for the identity check. */
#ifndef CHROMEREAPER_PIDLIST_H
#define CHROMEREAPER_PIDLIST_H

#include <stddef.h>
#include <sys/types.h>

struct pidlist {
    pid_t *v; /* sorted */
    size_t n;
    int complete; /* 0: /proc could not be listed; every pid may be alive */
};

void pidlist_take(struct pidlist *l);
/* 0 only if the list is complete and does not hold `pid`. */
int pidlist_may_hold(const struct pidlist *l, pid_t pid);
void pidlist_free(struct pidlist *l);

#endif
