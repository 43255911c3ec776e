/* What `chromereaper doctor` calls leaked: small pure functions over facts
 * gathered from the kernel (/proc, lstat), each tested as a table.  A
 * process is a leak only when nothing but the kernel's facts say so: its
 * uid is ours, its real executable is a browser's, it was orphaned (its
 * parent is init or a subreaper), it is older than the threshold, and no
 * live session claims it.  A directory is a leftover only when its name is
 * one that Chrome, chromedriver, Puppeteer or Playwright give their temp
 * directories, it is a real directory of ours, old, and no live process
 * uses it. */
#ifndef CHROMEREAPER_LEAK_H
#define CHROMEREAPER_LEAK_H

#include <stddef.h>

#include "role.h"

struct leak_facts {
    int not_a_target; /* pid 1, a kernel thread, a zombie, the doctor or its ancestors */
    int other_uid;
    enum cr_role role; /* from the real executable (browserexe): OTHER is no browser's */
    int orphaned;      /* its parent is init or a subreaper */
    int automated;     /* a browser's main process that a driver or client started
                          (--enable-automation, --remote-debugging-*, --headless) */
    int client_alive;  /* a crash handler one of whose clients is alive and not leaked */
    int claimed;       /* a live session's registry or cookie names it */
    int in_service;    /* in a systemd service's cgroup: the unit's, its manager stops it */
    int old_enough;    /* started at least --older-than ago */
};

enum leak_verdict {
    LEAK_YES = 0,
    LEAK_NOT_A_TARGET,
    LEAK_OTHER_UID,
    LEAK_NOT_A_BROWSER,
    LEAK_CLAIMED,      /* a live session's: its supervisor or watchdog reaps it */
    LEAK_IN_SERVICE,   /* a service's (a unit may run a browser itself, under init) */
    LEAK_NOT_ORPHANED, /* its parent is alive: someone still owns it */
    LEAK_INTERACTIVE,  /* a browser nobody automates: a person's, never ours to kill */
    LEAK_HAS_CLIENT,   /* a crash handler still serving a live browser */
    LEAK_TOO_YOUNG,
};

/* Whether a process is a leak by itself (a root of what is leaked; its
 * live descendants go with it). */
enum leak_verdict leak_process(const struct leak_facts *f);
const char *leak_verdict_name(enum leak_verdict v);

/* The kind of temp directory a name (the last component, directly in a
 * temp directory) is, or NULL when it is none of the known ones. */
const char *leftover_kind(const char *name);

struct leftover_facts {
    const char *kind; /* leftover_kind of its name */
    int is_dir;       /* a directory, not a symlink to one */
    int other_uid;
    int in_use;       /* a live process's cwd, open file, mapping, socket or --user-data-dir */
    int old_enough;   /* last modified at least --older-than ago, or used by a leaked process */
};

enum leftover_verdict {
    LEFTOVER_YES = 0,
    LEFTOVER_UNKNOWN_NAME,
    LEFTOVER_NOT_A_DIR,
    LEFTOVER_OTHER_UID,
    LEFTOVER_IN_USE,
    LEFTOVER_TOO_YOUNG,
};

enum leftover_verdict leftover_dir(const struct leftover_facts *f);
const char *leftover_verdict_name(enum leftover_verdict v);

/* 1 if /proc/<pid>/cgroup text puts the process in a systemd service
 * (the unified hierarchy's path, else name=systemd's, ends in ".service"). */
int leak_cgroup_is_service(const char *cgroup);

/* 1 if a browser's command line (NUL-separated, `len` bytes) says a driver
 * or an automation client started it. */
int leak_cmdline_automated(const char *cmdline, size_t len);

#endif
