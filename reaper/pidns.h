/* Whether a PID namespace can still hold a live process.  A registry made
 * in another PID namespace names its processes by that namespace's pids,
 * which mean nothing here; but once the namespace is gone (a container that
 * shared the host's /tmp and /dev/shm, its init SIGKILLed), no process of
 * the session can be alive, and its directories and registry may go. */
#ifndef CHROMEREAPER_PIDNS_H
#define CHROMEREAPER_PIDNS_H

#include <stdint.h>

/* The kernel's initial PID namespace (PROC_PID_INIT_INO): its processes
 * see every process on the machine. */
#define PIDNS_INITIAL_INO 0xEFFFFFFCu

enum pidns_verdict {
    PIDNS_OWN,     /* this process's namespace: its pids are ours */
    PIDNS_ALIVE,   /* another namespace with live members: never act on its pids */
    PIDNS_GONE,    /* no process of it can be alive */
    PIDNS_UNKNOWN, /* cannot tell: treat as alive */
};

/* The decision, over facts: the registry's namespace and ours (0: unknown),
 * whether ours is the initial one (only there is every process visible),
 * and whether a live process was found in the registry's namespace or one
 * nested in it (-1: the scan could not look at every process). */
enum pidns_verdict pidns_judge(uint64_t registry_ns, uint64_t own_ns, int own_is_initial,
                               int members_found);

/* The facts: 1 if some visible process lives in namespace `ns` or one
 * nested below it, 0 if none does, -1 if some process could not be looked
 * at (another user's, as non-root). */
int pidns_has_members(uint64_t ns);

/* pidns_judge over this machine's facts. */
enum pidns_verdict pidns_verdict_of(uint64_t registry_ns);

#endif
