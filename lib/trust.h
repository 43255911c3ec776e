/* Whether the reaper may signal a process: a small pure function over what
 * the kernel says about it.  A registry record is a claim by some session
 * process (any of them, renderers included, can write any record); the
 * claim only nominates a candidate, the facts decide. */
#ifndef CHROMEREAPER_TRUST_H
#define CHROMEREAPER_TRUST_H

enum session_cookie {
    COOKIE_NONE = 0, /* no CHROMEREAPER_SESSION, or the environment is unreadable */
    COOKIE_OURS,     /* CHROMEREAPER_SESSION=<this session> */
    COOKIE_OTHER,    /* names another session: that one's, whatever our registry says */
};

struct process_facts {
    int init_or_kthread;   /* pid 1, or a kernel thread */
    int zombie;            /* dead already */
    int other_uid;         /* not the session's uid */
    int reaper_lineage;    /* the reaper itself or one of its ancestors */
    int spared_root;       /* the live session root, when the caller spares it */
    enum session_cookie cookie;
    int maps_registry;     /* it has this session's registry file mapped: only
                              processes that opened the session do (the library
                              maps it in every one of them, zygotes included) */
    int descends;          /* its parent chain reaches the supervisor, or a
                              process with the cookie or the registry mapped */
    int claimed;           /* a registry record names it */
    int claim_start_differs; /* the record's start time is not its own (pid reuse) */
    int predates_session;  /* claimed, and started before the session's root */
};

enum trust_verdict {
    TRUST_SIGNAL = 0,
    TRUST_NOT_A_TARGET,    /* pid 1, kernel thread, zombie, reaper, spared root */
    TRUST_OTHER_UID,
    TRUST_OTHER_SESSION,
    TRUST_STALE_CLAIM,     /* start time differs, or older than the session */
    TRUST_UNTIED,          /* neither descent, cookie nor mapping ties it to the session */
};

enum trust_verdict trust_process(const struct process_facts *f);
const char *trust_verdict_name(enum trust_verdict v);

#endif
