#include "sweep.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "reap.h"
#include "report.h"

#define SWEEP_MIN_AGE_SEC 60

static int sweepable(uint32_t uid, const char *id)
{
    struct session s;
    char why[160];
    if (session_load(&s, uid, id, 0, why, sizeof why) != CR_REG_OK)
        return 0;
    int old = (uint64_t)time(NULL) >= s.reg.hdr->created_unix + SWEEP_MIN_AGE_SEC;
    int yes = old && session_is_stale(&s);
    session_free(&s);
    return yes;
}

void sweep_stale_sessions(uint32_t uid, const char *own)
{
    char (*ids)[CR_SESSION_MAX] = NULL;
    size_t n = session_list(uid, &ids);
    for (size_t i = 0; i < n; i++) {
        struct session s;
        char why[160];
        /* read-only first: no lock is taken on a live session */
        if (strcmp(ids[i], own) == 0 || !sweepable(uid, ids[i]) ||
            session_load_locked(&s, uid, ids[i], 0, why, sizeof why) != CR_REG_OK)
            continue;
        if (session_is_stale(&s)) {
            struct reap_options ro = {.grace_sec = 2.0, .spare_root = 1};
            struct reap_result r;
            int leftovers = reap_session(&s, &ro, &r);
            log_msg(leftovers ? LOG_ERROR : LOG_WARN,
                    "session %s was left behind (its supervisor and watchdog are gone): reaped by session %s, %zu processes killed, %zu directories removed, %zu survived",
                    ids[i], own, reap_count(&r, OUTCOME_TERMINATED) + reap_count(&r, OUTCOME_KILLED),
                    reap_count_dirs(&r, DIR_REMOVED), reap_count(&r, OUTCOME_SURVIVED));
            log_report(LOG_INFO, &r);
            reap_result_free(&r);
        }
        session_free(&s);
    }
    free(ids);
}
