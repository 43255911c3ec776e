/* The Node bots of examples/ ended every way, under run and LD_PRELOAD:
 * puppeteer_bot.js (npm puppeteer-core; Puppeteer's own temporary profile,
 * /tmp/puppeteer_dev_chrome_profile-*) and playwright_bot.js (npm
 * playwright-core; its profile, /tmp/playwright_chromiumdev_profile-*, and
 * its artifacts directory, /tmp/playwright-artifacts-*, never on a command
 * line), both driving Debian's chromium, their temporary directories in the
 * bot's TMPDIR. */
#include <criterion/criterion.h>

#include "nodebot.h"

static struct botrun b;

static void setup(void) { br_setup(&b, "nodebot"); }
static void teardown(void) { br_teardown(&b); }

TestSuite(puppeteer, .init = setup, .fini = teardown, .timeout = 300);
TestSuite(playwright, .init = setup, .fini = teardown, .timeout = 300);

#define PUPPETEER "examples/puppeteer_bot.js"
#define PLAYWRIGHT "examples/playwright_bot.js"

Test(puppeteer, run_sigkill) { nb_case(&b, PUPPETEER, BR_RUN, NB_SIGKILL); }
Test(puppeteer, run_sigterm) { nb_case(&b, PUPPETEER, BR_RUN, NB_SIGTERM); }
Test(puppeteer, run_uncaught_exception) { nb_case(&b, PUPPETEER, BR_RUN, NB_EXCEPTION); }
Test(puppeteer, run_normal_exit) { nb_case(&b, PUPPETEER, BR_RUN, NB_NORMAL); }
Test(puppeteer, run_browser_killed_while_the_bot_runs) { nb_case(&b, PUPPETEER, BR_RUN, NB_BROWSER_KILLED); }
Test(puppeteer, preload_sigkill) { nb_case(&b, PUPPETEER, BR_PRELOAD, NB_SIGKILL); }
Test(puppeteer, preload_sigterm) { nb_case(&b, PUPPETEER, BR_PRELOAD, NB_SIGTERM); }
Test(puppeteer, preload_uncaught_exception) { nb_case(&b, PUPPETEER, BR_PRELOAD, NB_EXCEPTION); }
Test(puppeteer, preload_normal_exit) { nb_case(&b, PUPPETEER, BR_PRELOAD, NB_NORMAL); }
Test(puppeteer, preload_browser_killed_while_the_bot_runs) { nb_case(&b, PUPPETEER, BR_PRELOAD, NB_BROWSER_KILLED); }

Test(playwright, run_sigkill) { nb_case(&b, PLAYWRIGHT, BR_RUN, NB_SIGKILL); }
Test(playwright, run_sigterm) { nb_case(&b, PLAYWRIGHT, BR_RUN, NB_SIGTERM); }
Test(playwright, run_uncaught_exception) { nb_case(&b, PLAYWRIGHT, BR_RUN, NB_EXCEPTION); }
Test(playwright, run_normal_exit) { nb_case(&b, PLAYWRIGHT, BR_RUN, NB_NORMAL); }
Test(playwright, run_browser_killed_while_the_bot_runs) { nb_case(&b, PLAYWRIGHT, BR_RUN, NB_BROWSER_KILLED); }
Test(playwright, preload_sigkill) { nb_case(&b, PLAYWRIGHT, BR_PRELOAD, NB_SIGKILL); }
Test(playwright, preload_sigterm) { nb_case(&b, PLAYWRIGHT, BR_PRELOAD, NB_SIGTERM); }
Test(playwright, preload_uncaught_exception) { nb_case(&b, PLAYWRIGHT, BR_PRELOAD, NB_EXCEPTION); }
Test(playwright, preload_normal_exit) { nb_case(&b, PLAYWRIGHT, BR_PRELOAD, NB_NORMAL); }
Test(playwright, preload_browser_killed_while_the_bot_runs) { nb_case(&b, PLAYWRIGHT, BR_PRELOAD, NB_BROWSER_KILLED); }
