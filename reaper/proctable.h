/* A snapshot of every process in /proc: parentage, identity and owner.
 * The kill plan's descendant walk and the cookie scan read it. */
#ifndef CHROMEREAPER_PROCTABLE_H
#define CHROMEREAPER_PROCTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

struct proc_node {
    pid_t pid;
    pid_t ppid;
    uint64_t start_time;
    uid_t uid;
    char state;
    int kthread; /* kernel threads: never signalled, whatever names them */
    int cookie;  /* enum session_cookie + 1 once read; 0: not read yet */
    int maps;    /* 1 maps the session's registry, 2 does not; 0: not read yet */
    int role;    /* enum cr_role + 1 once read (reaper/reap.c); 0: not read yet */
    pid_t *children;
    size_t nchildren, children_cap;
    UT_hash_handle hh;
};

struct proctable {
    struct proc_node *by_pid;
};

int proctable_snapshot(struct proctable *t);
void proctable_free(struct proctable *t);
struct proc_node *proctable_find(const struct proctable *t, pid_t pid);

/* 1 if pid is the reaper itself or one of its ancestors. */
int proctable_is_self_or_ancestor(const struct proctable *t, pid_t pid);

#endif
