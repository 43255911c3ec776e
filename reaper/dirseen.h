/* Profiles seen given to browsers: the --user-data-dir on the command line
 * of a live browser process of the session (its environment carries the
 * session's cookie: Chrome's main process keeps its environment), with the
 * (dev, inode) of the directory there at that moment.  The kernel shows
 * what a live process was started with; no record can add to this set.  The watchdog and `run`
 * look at each browser as its records appear; a reap also looks at every
 * live browser it is about to kill. */
#ifndef CHROMEREAPER_DIRSEEN_H
#define CHROMEREAPER_DIRSEEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct seen_dir {
    uint64_t dev, ino;
    char path[4096];
};

struct dirseen {
    struct seen_dir *v;
    size_t n, cap;
};

/* Reads pid's command line; if it is a browser's that carries `cookie`
 * ("CHROMEREAPER_SESSION=<id>") and names an absolute --user-data-dir
 * that is a directory now, remembers it (once). */
void dirseen_observe(struct dirseen *ds, pid_t pid, const char *cookie);

/* The same when the caller read that browser's command line and cookie
 * itself: `udd` is its --user-data-dir (NULL: none). */
void dirseen_add(struct dirseen *ds, const char *udd);

/* 1 if (dev, ino) was seen given to a browser. */
int dirseen_has(const struct dirseen *ds, uint64_t dev, uint64_t ino);

/* The first directory seen at `path`, or NULL. */
const struct seen_dir *dirseen_at(const struct dirseen *ds, const char *path);

void dirseen_free(struct dirseen *ds);

#endif
