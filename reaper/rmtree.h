/* Removing a recorded directory without ever harming anything else.
 *
 * - The path is resolved component by component from "/" with O_NOFOLLOW:
 *   a path that goes through a symlink (or ".", "..") is never acted on, so
 *   a parent swapped for a symlink cannot redirect the removal.
 * - The directory itself is checked at delete time, on the file descriptor
 *   the walk then uses: a directory (not a symlink), the recorded (dev,
 *   inode) when there is one, owned by `owner`, not a mount point, not a
 *   shared sticky or world-writable directory.
 * - The tree is walked with openat/unlinkat relative to verified directory
 *   fds: symlinks are removed and never followed; nothing on another mount
 *   (bind mount, another filesystem) is entered or removed; nothing owned by
 *   another uid is removed (symlinks excepted, which are only names); below
 *   RMTREE_MAX_DEPTH levels nothing is entered.  What stays is reported.
 * - A non-root owner cannot list or empty its own directories without
 *   u+rwx: such directories (owned by the caller) are given u+rwx before
 *   they are emptied.  Root needs no such help and changes no modes. */
#ifndef CHROMEREAPER_RMTREE_H
#define CHROMEREAPER_RMTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RMTREE_MAX_DEPTH 128

enum rmtree_result {
    RMTREE_REMOVED = 0, /* (rmtree_check: would be removed) */
    RMTREE_ABSENT,   /* nothing at that path */
    RMTREE_MISMATCH, /* not the directory that was recorded: left alone */
    RMTREE_FAILED,   /* partly removed; `why` says what stayed */
};

/* `identity` non-zero: the directory must still be (dev, ino).  `why`
 * receives the reason for anything but RMTREE_REMOVED. */
enum rmtree_result rmtree_checked(const char *path, int identity, uint64_t dev, uint64_t ino,
                                  uid_t owner, char *why, size_t why_len);

/* The same checks, touching nothing (dry run): RMTREE_REMOVED means
 * rmtree_checked would start removing it. */
enum rmtree_result rmtree_check(const char *path, int identity, uint64_t dev, uint64_t ino,
                                uid_t owner, char *why, size_t why_len);

/* What the kernel says about the directory at `path` (resolved from "/"
 * without following any symlink): identity, owner and, when the filesystem keeps one, creation time,
 * all from one statx.  0 on success, -1 if it is not a directory there. */
struct rmtree_stat {
    uint64_t dev, ino;
    uid_t owner;
    int have_birth;
    int64_t birth_sec;
    uint32_t birth_nsec;
};
int rmtree_stat(const char *path, struct rmtree_stat *out);

/* 1 if absolute `path` names something strictly below absolute `dir`,
 * compared component by component ("//" and a trailing "/" do not count).
 * 0 when either holds a "." or ".." component, or `dir` is "/". */
int rmtree_path_below(const char *path, const char *dir);

#endif
