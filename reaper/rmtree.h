/* Removing a recorded directory without ever harming anything else:
 * identity (dev, inode) and owner checked at delete time, the tree walked
 * with openat/unlinkat relative to directory fds, symlinks removed and never
 * followed, and no descent into another mount. */
#ifndef CHROMEREAPER_RMTREE_H
#define CHROMEREAPER_RMTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum rmtree_result {
    RMTREE_REMOVED = 0,
    RMTREE_ABSENT,   /* nothing at that path */
    RMTREE_MISMATCH, /* not the directory that was recorded: left alone */
    RMTREE_FAILED,   /* partly removed; `why` says what stayed */
};

/* `identity` non-zero: the directory must still be (dev, ino). */
enum rmtree_result rmtree_checked(const char *path, int identity, uint64_t dev, uint64_t ino,
                                  uid_t owner, char *why, size_t why_len);

/* Identity of a directory (not following symlinks); 0 on success. */
int rmtree_identity(const char *path, uint64_t *dev, uint64_t *ino, uid_t *owner);

#endif
