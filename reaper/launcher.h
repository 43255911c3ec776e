/* A session whose root is a browser (or a driver) that no process of the
 * session started.  Go's os/exec (chromedp, rod) forks and execs with raw
 * system calls and hands its child the environment its runtime copied at
 * start-up: chromium inherits LD_PRELOAD but no session, and becomes the
 * root of a session of its own, whose watchdog waits on chromium.  When
 * the launcher dies, nothing would end that session: chromium lives on,
 * reparented.  So such a session is tied to the life of the process that
 * launched its root (the root's parent when it started, pinned by a pidfd
 * while it still is the root's parent): once that process is gone, the
 * watchdog reaps the whole session, root included.  A root that is not a
 * browser by its executable (the bot itself) is never reaped for
 * outliving its parent: `nohup bot &` from a shell that exits goes on. */
#ifndef CHROMEREAPER_LAUNCHER_H
#define CHROMEREAPER_LAUNCHER_H

#include <stdint.h>
#include <sys/types.h>

struct launcher_tie {
    pid_t root;          /* the session's root */
    uint64_t root_start;
    pid_t launcher;      /* its parent when it started; 0: none to tie to */
    uint64_t launcher_start; /* its start, clock ticks after boot (0: unknown) */
    int pidfd;           /* on the launcher while it lives, else -1 */
    int gone;            /* the launcher is known dead */
};

/* The decision, over kernel facts: reap the session now (its root still
 * alive) only when the root's executable (/proc/<root>/exe, as the kernel
 * says, never its argv) is a browser's or a driver's and the process that
 * launched it is gone. */
int launcher_reap_due(const char *root_exe, int launcher_gone);

/* Finds the launcher of the session's root (from the root's own record,
 * checked against the kernel) and pins it.  Never fails: without a
 * launcher to tie to, the tie never comes due. */
void launcher_tie_init(struct launcher_tie *t, uint32_t uid, const char *session);

/* For poll(2): readable once the launcher has exited; -1 when there is
 * nothing to watch. */
int launcher_tie_fd(const struct launcher_tie *t);

/* Called when launcher_tie_fd polled readable: the launcher is gone. */
void launcher_tie_lost(struct launcher_tie *t);

/* 1 when the whole session is to be reaped now (launcher_reap_due with the
 * root's live executable); logs why at info level. */
int launcher_tie_due(struct launcher_tie *t, const char *session);

/* When the launcher started (clock ticks after boot), if it is gone by
 * now: a session tied to it began then.  0 if it lives on, or there is
 * none. */
uint64_t launcher_tie_began(struct launcher_tie *t);

void launcher_tie_free(struct launcher_tie *t);

#endif
