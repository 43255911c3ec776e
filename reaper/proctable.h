/* A snapshot of every process in /proc: parentage, identity and owner.
 * The kill plan's descendant walk and the cookie scan read it.  A pinned
 * snapshot also holds a pidfd on each process of one uid, opened before its
 * stat was read: what the snapshot says about it is then known to be that
 * very process's, and a rescan need not read it again while it lives. */
#ifndef CHROMEREAPER_PROCTABLE_H
#define CHROMEREAPER_PROCTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"
#include <uthash.h>

struct proc_node {
    pid_t pid;
    pid_t ppid;
    uid_t uid;
    /* from its stat: valid once proctable_facts said so (a pinned process
     * of the table's uid is read when first needed) */
    uint64_t start_time;
    char state;
    int kthread; /* kernel threads: never signalled, whatever names them */
    int facts;   /* 1: the three above are read; 0: not yet; -1: it was gone */
    struct proc_areas areas; /* with them: where its command line and environment are */
    int pidfd;   /* pins this process (pinned snapshots), or -1 */
    int pidfd_taken; /* proctable_take_pidfd handed it on: its taker closes it */
    int cookie;  /* enum session_cookie + 1 once read; 0: not read yet */
    int maps;    /* 1 maps the session's registry, 2 does not; 0: not read yet */
    int role;    /* enum cr_role + 1 once read (reaper/reap.c); 0: not read yet */
    char *exe;   /* its executable, when reaper/reap.c read it for the role */
    char *user_data_dir; /* a browser's --user-data-dir, read with the role */
    char *cmdline;       /* read with the environment, kept until the role is read */
    size_t cmdline_len;
    unsigned seen;  /* the scan that last listed it */
    unsigned fresh; /* the scan that read it */
    int exited;    /* its pidfd said it exited (a zombie that still holds its pid) */
    pid_t *children;
    size_t nchildren, children_cap;
    UT_hash_handle hh;
};

struct proctable {
    struct proc_node *by_pid;
    pid_t self; /* the reaper's own pid */
    /* pinned snapshots: processes of pin_uid, while fewer than pin_budget
     * pidfds are held (`pinned` counts those the table opened; a caller
     * that opens more for the same budget adds them) */
    int pin;
    uid_t pin_uid;
    size_t pin_budget, pinned;
    unsigned scans;
};

int proctable_snapshot(struct proctable *t);

/* The same, pinning each process of `uid` while fewer than `budget`
 * pidfds are held.  Without the kernel's PIDFD_GET_INFO (before Linux
 * 6.13) nothing is pinned and the owner comes from /proc/<pid>/status. */
int proctable_snapshot_pinned(struct proctable *t, uid_t uid, size_t budget);

/* Rescans /proc after a snapshot: processes that appeared since are added
 * (pinned like the snapshot's), those gone are dropped, a pid now another
 * process's is read again; a pinned process still alive is not read again
 * (it is the process its pidfd names).  Returns how many were added. */
size_t proctable_refresh(struct proctable *t);

/* The node's pidfd, from now on the caller's to close; -1 if none. */
/* Reads the start time, state and kernel-thread flag of n if the scan
 * left them for later (a pinned process of the table's uid).  0 if they
 * are valid, -1 if the process was reaped before they could be read: it
 * is to be treated as gone. */
int proctable_facts(struct proc_node *n);

int proctable_take_pidfd(struct proc_node *n);

void proctable_free(struct proctable *t);
struct proc_node *proctable_find(const struct proctable *t, pid_t pid);

/* 1 if pid is the reaper itself or one of its ancestors. */
int proctable_is_self_or_ancestor(const struct proctable *t, pid_t pid);

#endif
