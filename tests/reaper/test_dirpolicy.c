/* reaper/dirpolicy.c as a table: which facts let a directory go, and the
 * one fact that keeps it otherwise.  Every row changes one fact of a
 * directory that would be removed. */
#include <criterion/criterion.h>

#include "dirpolicy.h"

/* A Chrome temp directory made in /tmp during the session by a round's
 * process, seen given to a browser, used by nobody: removed. */
static const struct dir_facts gone = {
    .birth_known = 1, .born_in_session = 1, .in_temp_dir = 1, .given_to_browser = 1,
    .known_name = 1,  .identity = 1,        .used_by = 0,     .round_reap = 1,
    .made_by_round = 1,
};

struct row {
    const char *what;
    struct dir_facts f;
    enum dir_verdict want;
};

#define WITH(...) ({ struct dir_facts f_ = gone; __VA_ARGS__; f_; })

Test(dirpolicy, each_fact_keeps_the_directory_alone)
{
    const struct row rows[] = {
        {"all facts for it", gone, DIR_REMOVE},
        {"filesystem without creation times", WITH(f_.birth_known = 0), DIR_KEEP_BIRTH_UNKNOWN},
        {"made before the session (the user's project)", WITH(f_.born_in_session = 0), DIR_KEEP_OLDER_THAN_SESSION},
        {"outside a temporary directory", WITH(f_.in_temp_dir = 0), DIR_KEEP_NOT_TEMPORARY},
        {"the bot's own output: not given, no known name",
         WITH(f_.given_to_browser = 0; f_.known_name = 0), DIR_KEEP_NEVER_GIVEN},
        {"a library's temp dir never on a command line (playwright-artifacts)",
         WITH(f_.given_to_browser = 0), DIR_REMOVE},
        {"a profile of any name given to a browser (tempfile.mkdtemp)", WITH(f_.known_name = 0), DIR_REMOVE},
        {"no identity to check it by", WITH(f_.identity = 0), DIR_KEEP_NO_IDENTITY},
        {"a live process outside the reap uses it", WITH(f_.used_by = 4242), DIR_KEEP_IN_USE},
        {"a round's reap, the bot's --user-data-dir", WITH(f_.made_by_round = 0), DIR_KEEP_UNTIL_SESSION_ENDS},
        {"the session's reap, the bot's --user-data-dir", WITH(f_.made_by_round = 0; f_.round_reap = 0), DIR_REMOVE},
        {"the session's reap, in use", WITH(f_.round_reap = 0; f_.used_by = 7), DIR_KEEP_IN_USE},
        {"made before the session, whatever else is claimed",
         WITH(f_.born_in_session = 0; f_.used_by = 0; f_.round_reap = 0), DIR_KEEP_OLDER_THAN_SESSION},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        enum dir_verdict got = dir_policy(&rows[i].f);
        cr_expect_eq(got, rows[i].want, "%s: got \"%s\", want \"%s\"", rows[i].what, dir_verdict_why(got),
                     dir_verdict_why(rows[i].want));
    }
}

Test(dirpolicy, a_keep_verdict_always_says_why)
{
    for (int v = DIR_KEEP_BIRTH_UNKNOWN; v <= DIR_KEEP_UNTIL_SESSION_ENDS; v++)
        cr_expect(dir_verdict_why((enum dir_verdict)v)[0], "verdict %d has no reason", v);
    cr_expect_str_empty(dir_verdict_why(DIR_REMOVE));
}

/* A round began when its root started: /proc says so in 10 ms ticks, the
 * filesystem stamps a directory's birth in nanoseconds.  A directory the
 * bot made a moment before the round, within the same tick, must not pass
 * for the round's. */
Test(dirpolicy, only_a_directory_born_after_the_start_tick_is_younger_than_the_process)
{
    const int64_t boot = 1700000000LL * 1000000000LL; /* the wall clock at boot */
    const uint64_t tick = 12345;                       /* 123.45 s after boot, 100 Hz */
    const int64_t tick_start = boot + 123450000000LL;
    struct {
        const char *what;
        int64_t birth_ns;
        int want;
    } rows[] = {
        {"born before the start tick", tick_start - 1, 0},
        {"born at the start of the start tick", tick_start, 0},
        {"born within the start tick", tick_start + 4000000, 0},
        {"born in the last nanosecond of the start tick", tick_start + 9999999, 0},
        {"born as the next tick begins", tick_start + 10000000, 1},
        {"born a second later", tick_start + 1000000000LL, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_eq(dir_born_after_start(rows[i].birth_ns, tick, 100, boot), rows[i].want, "%s",
                     rows[i].what);
    cr_expect_eq(dir_born_after_start(tick_start + 1000000000LL, tick, 0, boot), 0,
                 "without a tick length nothing is proven");
}
