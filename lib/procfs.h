/* Reading /proc/<pid>/...: identity (start time), parentage, owner,
 * command line and environment.  Every function uses caller-provided
 * buffers and raw open/read/close, so the shim may call them in vfork
 * children and after fork; the reaper uses them as its view of the system.
 * A process that vanished mid-read is reported as an error, never guessed. */
#ifndef CHROMEREAPER_PROCFS_H
#define CHROMEREAPER_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
    pid_t ppid;
    char state;          /* R, S, D, Z, T, ... */
    uint64_t start_time; /* clock ticks after boot (field 22) */
};

/* pid 0 means "self".  Returns 0 or -1 (errno set: ENOENT/ESRCH if gone). */
int proc_stat_read(pid_t pid, struct proc_stat *out);

/* Real uid from /proc/<pid>/status. */
int proc_uid_read(pid_t pid, uid_t *uid);

/* Reads the whole small file /proc/<pid>/<name> into buf (NUL-terminated
 * after `*len` bytes).  Returns 0 or -1; a file longer than the buffer is
 * truncated, which is fine for classification. */
int proc_file_read(pid_t pid, const char *name, char *buf, size_t cap, size_t *len);

/* Target of /proc/<pid>/exe ("" if unreadable). */
int proc_exe_read(pid_t pid, char *buf, size_t cap);

/* 1 if /proc/<pid>/environ holds exactly the entry `entry` ("NAME=value"),
 * 0 if not, -1 if unreadable.  Streams the file: environments of any size. */
int proc_environ_has(pid_t pid, const char *entry);

/* Innermost-to-host mapping: the host PID of a process is the first NSpid
 * field; 1 if the process lives in a nested PID namespace. */
int proc_in_nested_pidns(pid_t pid);

/* "/proc/<pid>/<name>" without snprintf (async-signal-safe). */
int proc_path(char *buf, size_t cap, pid_t pid, const char *name);

#endif
