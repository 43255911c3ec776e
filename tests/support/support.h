/* Helpers for the process-level suites (shim, reaper, e2e): paths into the
 * build tree, sessions, starting programs under the shim, waiting for files
 * and processes.  Waits take an upper bound only so a broken build cannot
 * hang the suite; no test asserts on how long anything took. */
#ifndef CHROMEREAPER_TEST_SUPPORT_H
#define CHROMEREAPER_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry.h"

/* CR_BUILD_DIR "/" rel, in one of a few rotating static buffers. */
const char *ts_build(const char *rel);
const char *ts_source(const char *rel);

/* A fresh session id "crtest-<pid>-<n>" (buf >= 64 bytes) and its registry. */
void ts_session_create(char *id, size_t len, struct cr_registry *reg);
/* The same with tables of the given capacities. */
void ts_session_create_sized(char *id, size_t len, struct cr_registry *reg, uint32_t entries,
                             uint32_t dirs);
/* Removes `uid`'s registries whose root is `root` (when root <= 0, every
 * one of that uid that a library made: not the "crtest-" sessions that
 * tests running in parallel make themselves): what a program that became a
 * session root by itself left.  Returns how many. */
int ts_remove_registries_of(uid_t uid, pid_t root);

/* dir "/" name, in one of a few rotating static buffers. */
const char *ts_join(const char *dir, const char *name);

/* Removes the registry if it is still there (a reap normally does). */
void ts_session_remove(const char *id);

/* The registry file of session `id` of `uid` (a static buffer). */
const char *ts_registry_file(uint32_t uid, const char *id);

/* Waits (bounded) until the filesystem of directory `dir` stamps a new
 * inode with a creation time past that of `ref`.  The kernel's clock for
 * timestamps is coarse (a few ms), and the reaper compares creation times
 * with the session's start: what a test makes "after the session started"
 * (or "before" it) must be so for the reaper too. */
void ts_after_birth_of(const char *ref, const char *dir);

/* A private temp directory for one test (mkdtemp under /tmp), and its
 * recursive removal. */
void ts_tmpdir(char *buf, size_t len, const char *tag);
void ts_rm_rf(const char *path);

/* fork+execv `argv` with the caller's environment plus, when `session` is
 * non-NULL, LD_PRELOAD=<build>/libchromereaper.so and CHROMEREAPER_SESSION.
 * `stdout_path` (may be NULL) receives the child's stdout and stderr.  The child gets
 * its own process group so cleanup can kill what it leaves. */
pid_t ts_spawn(char *const argv[], const char *session, const char *stdout_path);
/* The same with stdout and stderr into files of their own. */
pid_t ts_spawn_split(char *const argv[], const char *session, const char *stdout_path,
                     const char *stderr_path);

/* Runs argv to completion (no shim), stdout and stderr into `out` (malloc'd, may be
 * NULL); returns the exit code, or 128+N when killed by signal N. */
int ts_run(char *const argv[], char **out);

/* Waits until `path` exists and is non-empty; 0 on success, -1 on time-out. */
int ts_wait_file(const char *path, double max_sec);
/* Waits until pid is gone or a zombie; 0 on success, -1 on time-out. */
int ts_wait_gone(pid_t pid, double max_sec);
/* waitpid with an upper bound; returns the wait status or -1. */
int ts_waitpid(pid_t pid, double max_sec);

/* Alive and not a zombie. */
int ts_alive(pid_t pid);

/* Killing in a test's cleanup must not hit a stranger: pids wrap fast here
 * (pid_max 32768, suites forking thousands), and a pid read from a file or
 * left from a spawn may belong to another test's process by teardown time.
 * ts_spawn, ts_read_pids and ts_descendants remember each pid with its start
 * time; ts_kill signals through a pidfd only a process that still is the one
 * remembered, and never a process group. */
int ts_kill(pid_t pid, int sig);
void ts_remember(pid_t pid);

/* The fixture browser (fixtures/fake_chromium) writing to `outdir`: waits
 * until it is ready, reads its pids (returns how many) and its temp dir. */
int ts_fixture_ready(const char *outdir, pid_t *pids, int max, char *dir, size_t dirlen);
/* 1 when none of `pids` is alive and neither `dir` nor the registry of
 * `session` exists. */
int ts_fixture_gone(const char *session, const pid_t *pids, int npids, const char *dir);

/* A fixture test's last resort: reap `session` (if non-empty) and kill what
 * carries its cookie, SIGKILL the remembered `pids` and the process group
 * `group` (if > 0, then waited for), and remove `dir` (if non-empty). */
void ts_cleanup_fixture(const char *session, const pid_t *pids, int npids, pid_t group, const char *dir);

/* Reads whitespace-separated pids from a file; returns how many. */
int ts_read_pids(const char *path, pid_t *out, int max);

/* Whole file into a malloc'd NUL-terminated string, or NULL. */
char *ts_slurp(const char *path);

/* Live descendants of root (by /proc PPid), root excluded; returns how many. */
int ts_descendants(pid_t root, pid_t *out, int max);

/* The row of `pid` in `chromereaper ls --tree` text, leading spaces
 * skipped, into buf; NULL if it has none. */
const char *ts_tree_row(const char *text, pid_t pid, char *buf, size_t len);

/* The pid of the `chromereaper watch` of session `id`, or -1. */
pid_t ts_watchdog_pid(const char *id);
/* The same, waiting up to max_sec for it to appear: the session's root
 * returns from its constructor once the watchdog's first fork exited, and
 * the second fork may exec a little later. */
pid_t ts_wait_watchdog(const char *id, double max_sec);

/* Live processes whose environment holds CHROMEREAPER_SESSION=<id>. */
int ts_count_cookie(const char *session);

/* SIGKILL every live process that carries the session cookie, and the
 * listed pids: the last resort of a test's cleanup. */
void ts_kill_session(const char *session);

#endif
