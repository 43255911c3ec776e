/* Driver rounds: a bot that opens and quits a driver thousands of times
 * makes one round per driver (or per browser it starts directly, Puppeteer
 * style).  A round is the topmost browser-stack process whose creator is
 * not part of the browser stack (the round's root), and every tracked
 * process created under it, followed through the records' creator links so
 * that daemons reparented to init (crashpad) still belong to their round. */
#ifndef CHROMEREAPER_ROUNDS_H
#define CHROMEREAPER_ROUNDS_H

#include <stddef.h>
#include <uthash.h>

#include "session.h"

struct round {
    struct tracked *root;
    struct tracked **members; /* root included */
    size_t nmembers, members_cap;
    struct tracked_dir **dirs; /* directories its members made with mkdtemp */
    size_t ndirs, dirs_cap;
    int reaped; /* every member's and directory's record is marked reaped */
};

struct rounds {
    struct round *v;
    size_t n, cap;
};

/* Groups the session's processes into rounds (in order of first record);
 * sets each tracked->round_root.  Processes in no round (the bot and its
 * own non-browser children) are left out. */
void rounds_build(struct rounds *rs, struct session *s);
void rounds_free(struct rounds *rs);

/* The bot's side of the session: a process in no round and not part of the
 * browser stack (the root, a daemon the bot forked, its own helpers).  A
 * namespace-local pid names nobody here, so such records never count.
 * Needs rounds_build first. */
int rounds_bot_side(const struct tracked *t);
/* 1 while a process of the bot's side lives (same start time): the session
 * lives while its bot does, daemonized or not. */
int rounds_bot_alive(const struct session *s);

#endif
