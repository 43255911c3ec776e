/* Before the leak gate judges a session: a browser that was quit cleanly
 * is still on its way out for a moment (chrome_crashpad_handler exits
 * after the browser it serves), and reaping it then would count a leak
 * that is not one. */
#ifndef CHROMEREAPER_SETTLE_H
#define CHROMEREAPER_SETTLE_H

#include <stddef.h>

#include "session.h"

struct round;

/* How long a browser that was quit cleanly may take to be gone before the
 * leak gate and the report judge it (crashpad follows its browser out). */
#define SETTLE_SEC 2.0

/* Waits, at most max_sec, until no browser-stack process of a round whose
 * root has exited is alive; returns how many still are. */
int session_settle(struct session *s, double max_sec);

/* The same for each driver round while the session runs (the monitor):
 * a round whose root exited waits, at most settle_sec from when it was
 * first seen so, while browser-stack members of it are still alive. */
struct settle_clock {
    struct settling_round {
        struct tracked_key root;
        double since;
    } *v;
    size_t n, cap;
};

/* 1 if the round (its root dead) should wait before it is reaped. */
int settle_round_waiting(struct settle_clock *c, const struct round *r, double settle_sec, double now_sec);
void settle_clock_free(struct settle_clock *c);

#endif
