/* The reap's own small decisions, each a pure function of facts the caller
 * gathered: whether what was read about a pid belongs to the process a
 * pidfd pins, and whether a record's process is dead once a reap is over
 * (without reading /proc again).  Tested as tables in
 * tests/reaper/test_reaprules.c. */
#ifndef CHROMEREAPER_REAPRULES_H
#define CHROMEREAPER_REAPRULES_H

/* Reading a pid for the process table: pidfd_open, then /proc/<pid>/stat,
 * then PIDFD_GET_INFO.  The stat read is the pinned process's only if the
 * kernel still had that process holding the pid after the read: a pid is
 * handed out again only once its process was reaped. */
struct pin_facts {
    int pinned;    /* a pidfd was opened on the pid first */
    int open_gone; /* opening one said there is no such process */
    int stat_read; /* its stat was read (only when it is not kept pinned) */
    int info_read; /* PIDFD_GET_INFO answered for the pinned process (after the stat, if read) */
    int info_gone; /* ... said it has been reaped since: what was read may be a successor's */
    int same_uid;  /* its uid (from PIDFD_GET_INFO) is the one the table pins */
};

enum pin_verdict {
    PIN_KEEP,     /* a node, pinned: its stat is read when needed, and checked
                     with the pidfd to be the pinned process's */
    PIN_UNPINNED, /* a node without a pidfd (its uid from /proc): whoever signals it
                     pins it then and checks its start time again */
    PIN_SKIP,     /* no node: gone, or what was read may be another process's */
};

enum pin_verdict pin_judge(const struct pin_facts *f);

/* May a target be sent SIGKILL now?  Leaves first: not while a child of
 * it that is a target lives unkilled.  Before the plan is complete (the
 * early kills of --grace 0) only a stopped target, only while the table
 * shows every child it has (no process was created since the table was
 * complete), and only once each of those children was judged a target. */
struct kill_facts {
    int done;              /* dead, or sent SIGKILL already */
    int plan_done;         /* every process was judged and the freeze is complete */
    int stopped;           /* sent SIGSTOP */
    int table_complete;    /* no process was created since the table was complete */
    int children_alive;    /* its children that are targets, neither dead nor killed (the
                              reap stops counting at the first) */
    int children_unjudged; /* its children that are not targets (yet), among those counted */
};

enum kill_verdict { KILL_NOW, KILL_LATER, KILL_DONE };

enum kill_verdict kill_judge(const struct kill_facts *f);

/* A record of the session after the processes were killed: may it be
 * marked reaped (its slot reused)?  The records were loaded before the
 * scan, so a process the scan did not see alive had died already, and
 * death is for good. */
struct record_facts {
    int namespaced;    /* its pid is a nested PID namespace's: never judged here */
    int seen;          /* the scan saw its pid with its start time, not a zombie */
    int target;        /* it was a target of this reap */
    int target_dead;   /* ... and its pidfd (or identity check) says it died */
    int pinned;        /* not a target, but the scan pinned it */
    int pinned_exited; /* ... and that pidfd says it exited */
};

enum record_verdict {
    RECORD_REAPED, /* dead: mark it */
    RECORD_KEEP,   /* alive, or not ours to judge */
    RECORD_CHECK,  /* alive at the scan and not pinned: read its stat to know */
};

enum record_verdict record_judge(const struct record_facts *f);

#endif
