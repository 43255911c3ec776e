/* lib/trust.c: which facts let the reaper signal a process.  A record only
 * nominates; descent or the cookie ties. */
#include <criterion/criterion.h>

#include "trust.h"

struct row {
    const char *what;
    struct process_facts f;
    enum trust_verdict want;
};

static const struct row rows[] = {
    {"a cookie holder the registry names", {.cookie = COOKIE_OURS, .claimed = 1}, TRUST_SIGNAL},
    {"a descendant of the session, no cookie (a renderer)", {.descends = 1}, TRUST_SIGNAL},
    {"a claimed descendant whose environ was overwritten", {.descends = 1, .claimed = 1}, TRUST_SIGNAL},
    {"an unclaimed cookie holder (the cookie scan)", {.cookie = COOKIE_OURS}, TRUST_SIGNAL},
    {"an orphaned zygote: no cookie, no descent, the registry mapped", {.claimed = 1, .maps_registry = 1},
     TRUST_SIGNAL},
    {"a stranger mapping our registry, another session's cookie", {.maps_registry = 1, .cookie = COOKIE_OTHER},
     TRUST_OTHER_SESSION},
    {"a forged record: no cookie, not a descendant", {.claimed = 1}, TRUST_UNTIED},
    {"a forged record, unreadable environ", {.claimed = 1, .cookie = COOKIE_NONE}, TRUST_UNTIED},
    {"a pid reused in the same tick by a stranger", {.claimed = 1}, TRUST_UNTIED},
    {"a pid reused with another start time", {.claimed = 1, .claim_start_differs = 1, .cookie = COOKIE_OURS},
     TRUST_STALE_CLAIM},
    {"claimed, older than the session's root", {.claimed = 1, .predates_session = 1, .descends = 1},
     TRUST_STALE_CLAIM},
    {"another session's cookie, even as a descendant", {.cookie = COOKIE_OTHER, .descends = 1},
     TRUST_OTHER_SESSION},
    {"another uid's process with our cookie", {.other_uid = 1, .cookie = COOKIE_OURS}, TRUST_OTHER_UID},
    {"pid 1", {.init_or_kthread = 1, .cookie = COOKIE_OURS, .descends = 1}, TRUST_NOT_A_TARGET},
    {"a zombie", {.zombie = 1, .descends = 1}, TRUST_NOT_A_TARGET},
    {"the reaper or an ancestor", {.reaper_lineage = 1, .cookie = COOKIE_OURS}, TRUST_NOT_A_TARGET},
    {"the live root when spared", {.spared_root = 1, .cookie = COOKIE_OURS}, TRUST_NOT_A_TARGET},
};

Test(trust, the_facts_decide)
{
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        enum trust_verdict got = trust_process(&rows[i].f);
        cr_expect_eq(got, rows[i].want, "%s: got %s, want %s", rows[i].what, trust_verdict_name(got),
                     trust_verdict_name(rows[i].want));
    }
}

/* Whatever else holds, nothing untied is ever signalled: every combination. */
Test(trust, nothing_untied_is_signalled)
{
    for (unsigned bits = 0; bits < (1u << 10); bits++)
        for (int c = COOKIE_NONE; c <= COOKIE_OTHER; c++) {
            struct process_facts f = {
                .init_or_kthread = bits & 1,     .zombie = (bits >> 1) & 1,
                .other_uid = (bits >> 2) & 1,     .reaper_lineage = (bits >> 3) & 1,
                .spared_root = (bits >> 4) & 1,   .cookie = (enum session_cookie)c,
                .descends = (bits >> 5) & 1,      .claimed = (bits >> 6) & 1,
                .claim_start_differs = (bits >> 7) & 1, .predates_session = (bits >> 8) & 1,
                .maps_registry = (bits >> 9) & 1,
            };
            if (trust_process(&f) != TRUST_SIGNAL)
                continue;
            cr_assert(f.descends || f.cookie == COOKIE_OURS || f.maps_registry, "bits %#x cookie %d signalled untied",
                      bits, c);
            cr_assert(!f.init_or_kthread && !f.zombie && !f.other_uid && !f.reaper_lineage && !f.spared_root);
            cr_assert(f.cookie != COOKIE_OTHER);
            cr_assert(!f.claimed || (!f.claim_start_differs && !f.predates_session));
        }
}
