/* What live processes use, as the kernel shows it, for doctor: which
 * entries of the temp directories are in use (a cwd or root, an open file,
 * a mapped file, a bound unix socket held open, a --user-data-dir or
 * crash database on a command line), and who holds each socket and its
 * peer (so a crash handler's clients can be found).  A process we cannot
 * read (another uid's, for a non-root caller) contributes nothing: the
 * directories it could use are not ours to remove either. */
#ifndef CHROMEREAPER_USAGE_H
#define CHROMEREAPER_USAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

struct used_entry {
    char *path; /* "<temp dir>/<name>": an entry of a temp directory */
    UT_hash_handle hh;
};

struct socket_holders {
    uint64_t ino;
    uint64_t peer; /* 0 if unknown or unconnected */
    pid_t *pids;
    size_t n, cap;
    UT_hash_handle hh;
};

struct usage {
    char **roots; /* the temp directories, canonical */
    size_t nroots;
    struct used_entry *used;
    struct socket_holders *sockets;
    int have_peers; /* the kernel told us the peers (sock_diag) */
};

/* Scans the processes `pick` says yes to (NULL: all) and /proc/net/unix.
 * `roots` are canonical absolute directories. */
void usage_scan(struct usage *u, char *const *roots, size_t nroots, int (*pick)(pid_t, void *),
                void *ctx);
void usage_free(struct usage *u);

/* 1 if `path` (an entry of one of the roots) is in use. */
int usage_in_use(const struct usage *u, const char *path);

/* The processes holding the peer ends of the unix sockets `pid` holds
 * (itself excluded), into `out`; returns how many (at most `max`), or -1
 * when the peers cannot be known. */
int usage_socket_peers(const struct usage *u, pid_t pid, pid_t *out, size_t max);

#endif
