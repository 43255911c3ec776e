#include "reaprules.h"

enum pin_verdict pin_judge(const struct pin_facts *f)
{
    /* reaped after the pin: what was read may describe a successor */
    if (f->open_gone || f->info_gone)
        return PIN_SKIP;
    if (f->pinned && f->info_read && f->same_uid)
        return PIN_KEEP;
    return f->stat_read ? PIN_UNPINNED : PIN_SKIP;
}

enum kill_verdict kill_judge(const struct kill_facts *f)
{
    if (f->done)
        return KILL_DONE;
    if (f->children_alive)
        return KILL_LATER;
    if (f->plan_done)
        return KILL_NOW;
    return f->stopped && f->table_complete && !f->children_unjudged ? KILL_NOW : KILL_LATER;
}

enum record_verdict record_judge(const struct record_facts *f)
{
    if (f->namespaced)
        return RECORD_KEEP;
    if (!f->seen)
        return RECORD_REAPED;
    if (f->target)
        return f->target_dead ? RECORD_REAPED : RECORD_KEEP;
    if (f->pinned)
        return f->pinned_exited ? RECORD_REAPED : RECORD_KEEP;
    return RECORD_CHECK;
}
