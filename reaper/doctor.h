/* chromereaper doctor: what is leaked on this machine for the caller's
 * uid, whoever leaked it, and (--fix) its removal.  The survey gathers
 * facts from the kernel and asks reaper/leak.c what they mean; the fix
 * reuses the reaper's pidfd kill (reap_orphans, reap_session) and its safe
 * removal (rmtree_checked). */
#ifndef CHROMEREAPER_DOCTOR_H
#define CHROMEREAPER_DOCTOR_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "reap.h"
#include "registry.h"
#include "role.h"

struct leaked_proc {
    pid_t pid, ppid;
    uint64_t start_time;
    pid_t root;          /* the leaked orphan it belongs to (itself for a root) */
    int depth;           /* 0 for a root, then one per generation below it */
    enum cr_role role;
    double age_sec;
    uint64_t rss;
    char exe[256];
    char parent[64];     /* "init", or the parent's name and pid */
    char why[160];       /* for a root: why it looks leaked */
    const char *outcome; /* after --fix: killed, terminated, vanished, survived, planned */
};

struct leftover {
    char path[4096];
    const char *kind;
    double age_sec;
    uint64_t bytes;
    uint64_t dev, ino;
    int in_use_now;     /* doctor_recheck_dirs: a live process uses it after all */
    const char *action; /* after --fix: removed, planned, absent, kept, failed */
    char why[256];
};

struct stale_session {
    char id[CR_SESSION_MAX];
    pid_t root;
    double age_sec;
    uint64_t bytes; /* the registry's size in /dev/shm */
    char problem[160]; /* "" when it is readable and stale; else why it cannot be read */
    const char *action; /* after --fix: reaped, planned, left */
    size_t killed, dirs_removed;
};

struct doctor {
    uint32_t uid;
    double older_than;
    int fix, dry_run;
    struct leaked_proc *procs;
    size_t nprocs, procs_cap;
    struct leftover *dirs;
    size_t ndirs, dirs_cap;
    struct stale_session *sessions;
    size_t nsessions, sessions_cap;
};

/* The survey, in the order --fix works: stale sessions; leaked processes
 * (orphans no live session claims, with their descendants); leftover temp
 * directories no live process but a leaked one uses (what --fix removes
 * once those are dead: planned before the kill, since a leak writes into
 * its profile until it dies). */
void doctor_survey_sessions(struct doctor *d);
void doctor_survey_processes(struct doctor *d);
void doctor_survey_dirs(struct doctor *d);
void doctor_recheck_dirs(struct doctor *d);
void doctor_free(struct doctor *d);

void doctor_report_text(FILE *out, const struct doctor *d, int colour);
void doctor_report_json(FILE *out, const struct doctor *d);

#endif
