/* How much disk a directory tree takes, for reports and metrics: the sum of
 * st_blocks (what removing it frees), walked the way rmtree walks: no
 * symlink followed, no other filesystem entered, at most RMTREE_MAX_DEPTH
 * levels.  Measuring only: it never decides anything. */
#ifndef CHROMEREAPER_DIRSIZE_H
#define CHROMEREAPER_DIRSIZE_H

#include <stdint.h>

/* Bytes used by `path` and everything below it; 0 if it cannot be read or
 * is not a directory (a symlink to one is not). */
uint64_t dir_usage(const char *path);

#endif
