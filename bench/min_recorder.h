/* B1's floor under the design, its recording half (bench/min_recorder.c):
 * the two records the design requires of a fork+exec in a session, made
 * as the shim makes them and nothing more.  Used by abloop's floor arm and
 * by the floor library (bench/min_recorder_preload.c). */
#ifndef CHROMEREAPER_BENCH_MIN_RECORDER_H
#define CHROMEREAPER_BENCH_MIN_RECORDER_H

#include <sys/types.h>

#include "role.h"

typedef pid_t (*minrec_fork_fn)(void);
typedef int (*minrec_execve_fn)(const char *, char *const[], char *const[]);

/* The session (copied) and this process's role, before the first record;
 * the registry is mapped on first use.  0, or -1 for an unusable id. */
int minrec_init(const char *session, enum cr_role role);

/* `real` (libc's fork), with the parent's record of the child: pid,
 * parent, start time (the clock bracketing the fork, else /proc), the
 * fork child's role. */
pid_t minrec_fork(minrec_fork_fn real);

/* `real` (libc's execve), preceded by the record of the exec: pid, parent,
 * start time (bracketed by the mark the parent left before the fork and a
 * reading now, else /proc), the role from the file and argv, the file; a
 * record that the exec failed when it returns.  Async-signal-safe: no
 * allocation, no lock (a fork child may call it). */
int minrec_execve(minrec_execve_fn real, const char *path, char *const argv[], char *const envp[]);

#endif
