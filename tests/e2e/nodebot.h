/* The Puppeteer and Playwright bots of examples/ (examples/node_bot_common.js
 * gives both one command line), each ending one of the ways bots end, under
 * `chromereaper run` or LD_PRELOAD alone: nothing of the browser may be left,
 * and the bot's exit status and output must be what they are without the
 * library (measured without it: SIGTERM makes both libraries close the
 * browser, and the bot's next page load then fails: status 1). */
#ifndef CHROMEREAPER_TEST_NODEBOT_H
#define CHROMEREAPER_TEST_NODEBOT_H

#include "botrun.h"

enum nb_end {
    NB_SIGKILL,        /* the bot killed with SIGKILL after its first page */
    NB_SIGTERM,        /* ... with SIGTERM */
    NB_EXCEPTION,      /* an uncaught exception after its first page, no close() */
    NB_NORMAL,         /* two pages, close(), exit 0 */
    NB_BROWSER_KILLED, /* its browser (the round's root) SIGKILLed while the bot runs */
};

/* Runs examples/<script> in `mode` and ends it as `end` says. */
void nb_case(struct botrun *b, const char *script, enum br_mode mode, enum nb_end end);

#endif
