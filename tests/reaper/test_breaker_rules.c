/* The circuit breaker's decision (reaper/session_limits.c) and the leak gate's
 * rule (reaper/leakrule.c), as tables: pure functions of facts. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include "../../reaper/history.h"
#include "../../reaper/session_limits.h"

#define MIB (1024ull * 1024ull)

struct round_facts {
    uint64_t start_ticks;
    double age_sec;
    uint64_t rss_bytes;
};

struct choose_case {
    const char *what;
    struct limits limits;
    size_t n;
    struct round_facts rounds[4];
    int reap[4];                  /* expected: 0, or 1 + enum reap_reason */
};

static const struct choose_case cases[] = {
    {"no limits reap nothing", {0}, 3,
     {{100, 500, 900 * MIB}, {200, 400, 900 * MIB}, {300, 1, 900 * MIB}}, {0, 0, 0}},
    {"max 1 browser: the two oldest go", {.max_browsers = 1}, 3,
     {{300, 1, 0}, {100, 9, 0}, {200, 5, 0}}, {0, 1 + REASON_MAX_BROWSERS, 1 + REASON_MAX_BROWSERS}},
    {"max 2 browsers, 2 live: nothing", {.max_browsers = 2}, 2, {{100, 9, 0}, {200, 5, 0}}, {0, 0}},
    {"age: only the rounds past it", {.max_round_age_sec = 60}, 3,
     {{100, 61, 0}, {200, 60, 0}, {300, 1, 0}}, {1 + REASON_MAX_ROUND_AGE, 0, 0}},
    {"age first, then the count among the rest", {.max_browsers = 1, .max_round_age_sec = 60}, 3,
     {{100, 100, 0}, {200, 30, 0}, {300, 2, 0}}, {1 + REASON_MAX_ROUND_AGE, 1 + REASON_MAX_BROWSERS, 0}},
    {"memory: the oldest until the rest fit", {.max_rss_bytes = 1000 * MIB}, 3,
     {{100, 3, 600 * MIB}, {200, 2, 600 * MIB}, {300, 1, 300 * MIB}}, {1 + REASON_MAX_RSS, 0, 0}},
    {"memory: one browser alone over the limit goes", {.max_rss_bytes = 100 * MIB}, 1,
     {{100, 3, 600 * MIB}}, {1 + REASON_MAX_RSS}},
    {"memory under the limit: nothing", {.max_rss_bytes = 2000 * MIB}, 2,
     {{100, 3, 600 * MIB}, {200, 2, 600 * MIB}}, {0, 0}},
    {"memory counts only the rounds the count keeps", {.max_browsers = 1, .max_rss_bytes = 700 * MIB}, 2,
     {{100, 3, 600 * MIB}, {200, 2, 600 * MIB}}, {1 + REASON_MAX_BROWSERS, 0}},
};

Test(breaker_rules, choose_table)
{
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        struct live_round v[4];
        for (size_t i = 0; i < 4; i++)
            v[i] = (struct live_round){.start_ticks = cases[c].rounds[i].start_ticks,
                                       .age_sec = cases[c].rounds[i].age_sec,
                                       .rss_bytes = cases[c].rounds[i].rss_bytes,
                                       .reap = -1};
        limits_choose(&cases[c].limits, v, cases[c].n);
        for (size_t i = 0; i < cases[c].n; i++) {
            int got = v[i].reap ? 1 + (int)v[i].reason : 0;
            cr_expect_eq(got, cases[c].reap[i], "%s: round %zu: got %d, expected %d", cases[c].what, i,
                         got, cases[c].reap[i]);
        }
    }
}

Test(breaker_rules, parse_rejects_nonsense, .init = cr_redirect_stderr)
{
    struct limits l = {0};
    cr_expect_eq(limits_parse(&l, "max-browsers", "2"), 0);
    cr_expect_eq(l.max_browsers, 2u);
    cr_expect_eq(limits_parse(&l, "max-round-age", "1.5"), 0);
    cr_expect_float_eq(l.max_round_age_sec, 1.5, 1e-9);
    cr_expect_eq(limits_parse(&l, "max-rss", "512"), 0);
    cr_expect_eq(l.max_rss_bytes, 512 * MIB);
    const char *bad[][2] = {{"max-browsers", "0"}, {"max-browsers", "1.5"}, {"max-browsers", "x"},
                            {"max-round-age", "0"}, {"max-round-age", "-3"}, {"max-rss", ""},
                            {"max-rss", "10k"}, {"max-what", "1"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(limits_parse(&l, bad[i][0], bad[i][1]), -1, "%s %s accepted", bad[i][0], bad[i][1]);
    fflush(stderr);
    cr_expect_stderr_eq_str("chromereaper: max-browsers takes a whole number from 1 to 100000\n"
                            "chromereaper: max-browsers takes a whole number from 1 to 100000\n"
                            "chromereaper: max-browsers takes a whole number from 1 to 100000\n"
                            "chromereaper: max-round-age takes seconds (more than 0)\n"
                            "chromereaper: max-round-age takes seconds (more than 0)\n"
                            "chromereaper: max-rss takes mebibytes (more than 0)\n"
                            "chromereaper: max-rss takes mebibytes (more than 0)\n"
                            "chromereaper: no such limit 'max-what'\n");
}

Test(breaker_rules, leak_rule_table)
{
    static const struct {
        const char *path;
        enum dir_action action;
        int leak;
    } dirs[] = {
        {"/tmp/org.chromium.Chromium.a9boSa", DIR_REMOVED, 0},         /* singleton after a clean quit */
        {"/tmp/.org.chromium.Chromium.a9boSa", DIR_REMOVED, 0},
        {"/tmp/.com.google.Chrome.Xy12Zz", DIR_REMOVED, 0},
        {"/tmp/org.chromium.Chromium.scoped_dir.ty6y88", DIR_REMOVED, 1}, /* chromedriver's profile */
        {"/tmp/puppeteer_dev_chrome_profile-Ab12Cd", DIR_REMOVED, 1},
        {"/tmp/org.chromium.Chromium.a9boSaX", DIR_REMOVED, 1},        /* not mkdtemp's six */
        {"/tmp/org.chromium.Chromium.a9bo-a", DIR_REMOVED, 1},
        {"/tmp/org.chromium.Chromium.a9boSa", DIR_FAILED, 1},          /* could not be removed */
        {"/tmp/org.chromium.Chromium.scoped_dir.ty6y88", DIR_ABSENT, 0},
        {"/home/u/profile", DIR_KEPT, 0},
    };
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        cr_expect_eq(history_dir_is_leak(dirs[i].path, dirs[i].action), dirs[i].leak, "%s (action %d)",
                     dirs[i].path, (int)dirs[i].action);
    cr_expect(history_proc_is_leak(OUTCOME_TERMINATED));
    cr_expect(history_proc_is_leak(OUTCOME_KILLED));
    cr_expect(history_proc_is_leak(OUTCOME_SURVIVED));
    cr_expect_not(history_proc_is_leak(OUTCOME_VANISHED));
    cr_expect_not(history_proc_is_leak(OUTCOME_PLANNED));
}
