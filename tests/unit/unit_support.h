/* Helpers shared by the unit suites (the test_*.c files next to this one).
 *
 * Cleanup discipline: every /dev/shm object and every child process a test
 * creates goes through these helpers, which remember it; ut_cleanup() (the
 * .fini of every suite that creates anything) removes/kills and reaps all of
 * it, also after a failed assertion.  A sweep at process exit additionally
 * removes objects left by test workers that crashed (see unit_support.c). */
#ifndef CHROMEREAPER_UNIT_SUPPORT_H
#define CHROMEREAPER_UNIT_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry.h"

/* Every session id the unit suites use starts with this. */
#define UT_SESSION_PREFIX "crtest-unit-"

/* Writes a fresh "crtest-unit-<pid>-<n>" into buf (>= 64 bytes) and returns
 * buf.  The registry path of the id (for `uid`) is remembered for cleanup. */
const char *ut_session_new(char *buf, size_t len, uint32_t uid);

/* registry_path() for `uid`, asserting that it succeeds. */
void ut_registry_path(char *buf, size_t len, uint32_t uid, const char *session);

/* Remembers a path (file, symlink, fifo or empty directory) to remove. */
void ut_track_path(const char *path);

/* Creates a registry for the current uid under a fresh session id (written
 * into session, >= 64 bytes), asserting success.  Tracked for cleanup. */
void ut_registry_create(struct cr_registry *reg, char *session, uint32_t entry_capacity,
                        uint32_t dir_capacity);

/* fork() that remembers the child for cleanup; in the child it arranges
 * SIGKILL on the parent's death.  Returns like fork(); asserts on failure. */
pid_t ut_fork(void);

/* waitpid() on a tracked child; forgets it once reaped.  Returns the raw
 * wait status; asserts on failure. */
int ut_wait(pid_t pid);

/* SIGKILLs and reaps a tracked child. */
void ut_kill_wait(pid_t pid);

/* Removes every tracked object, kills and reaps every tracked child. */
void ut_cleanup(void);

/* Self-checking entries: everything in the entry is a function of
 * (writer, seq), so a torn or mixed entry does not pass ut_entry_check. */
void ut_entry_make(struct cr_entry *e, int32_t writer, int32_t seq);
int ut_entry_check(const struct cr_entry *e);

/* Writes `len` bytes to a pipe fd / reads exactly `len` bytes (EINTR-safe).
 * Return 0 on success, -1 on error or EOF. */
int ut_write_all(int fd, const void *buf, size_t len);
int ut_read_all(int fd, void *buf, size_t len);

#endif
