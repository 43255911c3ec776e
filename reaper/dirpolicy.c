#include "dirpolicy.h"

#include <string.h>

enum dir_verdict dir_policy(const struct dir_facts *f)
{
    if (!f->birth_known)
        return DIR_KEEP_BIRTH_UNKNOWN;
    if (!f->born_in_session)
        return DIR_KEEP_OLDER_THAN_SESSION;
    if (!f->in_temp_dir)
        return DIR_KEEP_NOT_TEMPORARY;
    if (!f->given_to_browser && !f->known_name)
        return DIR_KEEP_NEVER_GIVEN;
    if (!f->identity)
        return DIR_KEEP_NO_IDENTITY;
    if (f->used_by > 0)
        return DIR_KEEP_IN_USE;
    if (f->round_reap && !f->made_by_round)
        return DIR_KEEP_UNTIL_SESSION_ENDS;
    return DIR_REMOVE;
}

int dir_born_after_start(int64_t birth_ns, uint64_t start_ticks, long hz, int64_t boot_wall_ns)
{
    if (hz <= 0)
        return 0;
    uint64_t end = start_ticks + 1;
    int64_t tick_end_ns = boot_wall_ns + (int64_t)(end / (uint64_t)hz) * 1000000000LL +
                          (int64_t)(end % (uint64_t)hz) * (1000000000LL / hz);
    return birth_ns >= tick_end_ns;
}

const char *dir_verdict_why(enum dir_verdict v)
{
    static const char *const why[] = {
        [DIR_REMOVE] = "",
        [DIR_KEEP_BIRTH_UNKNOWN] = "the filesystem does not say when it was made",
        [DIR_KEEP_OLDER_THAN_SESSION] = "made before the session",
        [DIR_KEEP_NOT_TEMPORARY] = "outside a temporary directory",
        [DIR_KEEP_NEVER_GIVEN] = "never given to a browser",
        [DIR_KEEP_NO_IDENTITY] = "no recorded identity to check it by",
        [DIR_KEEP_IN_USE] = "in use by a live process",
        [DIR_KEEP_UNTIL_SESSION_ENDS] = "the bot's profile: removed when the session ends",
    };
    return why[v];
}
