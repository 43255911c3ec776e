/* The circuit breaker at work: applies a session's limits (session_limits.h) to
 * its live driver rounds and reaps the rounds they condemn, each reap
 * logged (warn) and recorded in the history with its reason. */
#ifndef CHROMEREAPER_BREAKER_H
#define CHROMEREAPER_BREAKER_H

#include "history.h"
#include "session_limits.h"
#include "rounds.h"
#include "session.h"

struct dirseen;

/* `seen`: the profiles live browsers were given (reap_options.seen).
 * Returns how many rounds it reaped; those are marked reaped in `rs`. */
int breaker_apply(const struct limits *l, struct session *s, struct rounds *rs, double grace_sec,
                  const struct dirseen *seen, struct history *h);

#endif
