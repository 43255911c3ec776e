#include "trust.h"

enum trust_verdict trust_process(const struct process_facts *f)
{
    if (f->init_or_kthread || f->zombie || f->reaper_lineage || f->spared_root)
        return TRUST_NOT_A_TARGET;
    if (f->other_uid)
        return TRUST_OTHER_UID;
    if (f->cookie == COOKIE_OTHER)
        return TRUST_OTHER_SESSION;
    if (f->claimed && (f->claim_start_differs || f->predates_session))
        return TRUST_STALE_CLAIM;
    /* the claim itself ties nothing: only the kernel's parentage, the
     * environment the session gave its processes at exec, or the session's
     * registry in its address space */
    if (!f->descends && f->cookie != COOKIE_OURS && !f->maps_registry)
        return TRUST_UNTIED;
    return TRUST_SIGNAL;
}

const char *trust_verdict_name(enum trust_verdict v)
{
    static const char *const names[] = {
        [TRUST_SIGNAL] = "signal",           [TRUST_NOT_A_TARGET] = "not-a-target",
        [TRUST_OTHER_UID] = "other-uid",     [TRUST_OTHER_SESSION] = "other-session",
        [TRUST_STALE_CLAIM] = "stale-claim", [TRUST_UNTIED] = "untied",
    };
    return (unsigned)v <= TRUST_UNTIED ? names[v] : "?";
}
