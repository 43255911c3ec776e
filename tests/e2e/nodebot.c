/* See nodebot.h. */
#include "nodebot.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>

#include "support.h"

#define PAGE_LINE(n) "round " #n ": 'chromereaper demo page': 3 items\n"

static const char *const end_names[] = {
    [NB_SIGKILL] = "SIGKILL",           [NB_SIGTERM] = "SIGTERM", [NB_EXCEPTION] = "exception",
    [NB_NORMAL] = "normal exit",        [NB_BROWSER_KILLED] = "browser killed",
};

void nb_case(struct botrun *b, const char *script, enum br_mode mode, enum nb_end end)
{
    char how[128];
    snprintf(how, sizeof how, "%s, %s, %s", script, mode == BR_RUN ? "run" : "preload", end_names[end]);
    /* a long interval: the bot waits on its first page until the test ends it */
    char *argv[16] = {(char *)ts_source(script), "--ready-file", b->ready, "--loops", "100000",
                      "--interval", "600"};
    int n = 7;
    if (end == NB_EXCEPTION) {
        argv[n++] = "--crash-after";
        argv[n++] = "1";
        argv[6] = "0.2";
    } else if (end == NB_NORMAL) {
        argv[4] = "2";
        argv[6] = "0.1";
    } else if (end == NB_BROWSER_KILLED) {
        argv[n++] = "--wait-file";
        argv[n++] = b->waitfile;
    }
    argv[n] = NULL;
    br_start(b, mode, argv);
    if (mode == BR_PRELOAD)
        br_note_session_of(b, b->bot);

    int want_status = 0;
    const char *want_out = PAGE_LINE(1), *want_err = NULL;
    switch (end) {
    case NB_SIGKILL:
    case NB_SIGTERM:
        br_wait_ready(b);
        cr_assert_eq(ts_kill(b->bot, end == NB_SIGKILL ? SIGKILL : SIGTERM), 0);
        want_status = end == NB_SIGKILL ? 128 + SIGKILL : 1;
        break;
    case NB_EXCEPTION:
        want_status = 1;
        want_err = "Error: crashing in round 1 as asked, without closing the browser";
        break;
    case NB_NORMAL:
        want_out = PAGE_LINE(1) PAGE_LINE(2);
        break;
    case NB_BROWSER_KILLED:
        br_wait_ready(b);
        cr_assert_eq(ts_kill(br_find_browser(b), SIGKILL), 0);
        /* the round is reaped while the bot runs on */
        br_expect_clean(b, how);
        cr_assert(ts_alive(b->bot), "%s: the bot died with its browser", how);
        FILE *f = fopen(b->waitfile, "w");
        cr_assert_not_null(f);
        fclose(f);
        want_out = PAGE_LINE(1) "round 2: the browser went away\n";
        break;
    }
    cr_expect_eq(br_wait_end(b), want_status, "%s: the status changed", how);
    br_expect_clean(b, how);
    br_expect_output(b, want_out, want_err);
}
