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
    pid_t pid;           /* field 1: the pid as this /proc's namespace sees it */
    pid_t ppid;
    char state;          /* R, S, D, Z, T, ... */
    uint32_t flags;      /* field 9: PF_* */
    uint64_t start_time; /* clock ticks after boot (field 22) */
};

#define PROC_PF_KTHREAD 0x00200000u /* a kernel thread: never a target */

/* pid 0 means "self".  Returns 0 or -1 (errno set: ENOENT/ESRCH if gone). */
int proc_stat_read(pid_t pid, struct proc_stat *out);

/* Where the process's command line and environment are in its memory
 * (stat fields 48-51, Linux 3.5; 0 where the kernel does not show them
 * to us).  What the kernel serves as /proc/<pid>/cmdline and environ. */
struct proc_areas {
    uint64_t arg_start, arg_end, env_start, env_end;
};

/* proc_stat_read, with the areas too (areas may be NULL). */
int proc_stat_read_areas(pid_t pid, struct proc_stat *out, struct proc_areas *areas);

/* The command line and the environment of `pid` in one process_vm_readv
 * of the areas its stat gave, into buf: the command line as
 * /proc/<pid>/cmdline gives it (setproctitle's rewrite included) at buf,
 * *cmdlen bytes (at most cmdcap - 1, NUL-terminated in its own copy
 * `cmd`), the environment at *env, *envlen bytes.  -1 where the kernel
 * does not let us read that memory (another uid, a non-dumpable process
 * without CAP_SYS_PTRACE, Yama), the areas are unknown, not adjacent or
 * larger than cap, or the read comes up short: read /proc then.  Like a
 * read of /proc, it reads whatever process holds the pid now. */
int proc_args_env_read(pid_t pid, const struct proc_areas *a, char *buf, size_t cap, char *cmd, size_t cmdcap,
                       size_t *cmdlen, const char **env, size_t *envlen);

/* The value of environment entry `name` in an environment of len bytes
 * (NUL-separated entries), as proc_environ_value finds it. */
long proc_env_value_in(const char *env, size_t len, const char *name, char *out, size_t cap);

/* Real uid from /proc/<pid>/status. */
int proc_uid_read(pid_t pid, uid_t *uid);

/* Reads the whole small file /proc/<pid>/<name> into buf (NUL-terminated
 * after `*len` bytes) with one read(2).  Returns 0 or -1; a file longer than
 * the buffer is truncated, which is fine for classification. */
int proc_file_read(pid_t pid, const char *name, char *buf, size_t cap, size_t *len);

/* Target of /proc/<pid>/exe ("" if unreadable). */
int proc_exe_read(pid_t pid, char *buf, size_t cap);

/* 1 if /proc/<pid>/environ holds exactly the entry `entry` ("NAME=value"),
 * 0 if not, -1 if unreadable.  Streams the file: environments of any size. */
int proc_environ_has(pid_t pid, const char *entry);

/* The value of the first `name`=... entry of /proc/<pid>/environ, copied
 * into out (cap bytes, NUL-terminated).  Returns its full length (which may
 * be >= cap: then out holds a truncated copy), -1 if there is none, -2 if
 * the file is unreadable.  One read(2) for environments up to 16 KiB. */
long proc_environ_value(pid_t pid, const char *name, char *out, size_t cap);

/* 1 if /proc/<pid>/maps maps the file with device (major, minor) and inode
 * `ino`, 0 if not, -1 if unreadable. */
int proc_maps_file(pid_t pid, unsigned major, unsigned minor, uint64_t ino);

/* Innermost-to-host mapping: the host PID of a process is the first NSpid
 * field; 1 if the process lives in a nested PID namespace. */
int proc_in_nested_pidns(pid_t pid);

/* The NSpid chain of /proc/<pid>/status: the pid as this /proc's namespace
 * sees it first, then as each nested PID namespace sees it, innermost last.
 * Stores up to `max` values; returns the number of levels (1: not nested),
 * 0 on kernels without NSpid, -1 if unreadable. */
int proc_nspid_read(pid_t pid, pid_t *out, int max);

/* Maps a record made inside a PID namespace back to this /proc's view: 1 if
 * process `pid` (whose parent here is `parent`) and its parent are seen as
 * `local` and `local_parent` at one same nested level of their NSpid chains,
 * i.e. `pid` is the child that a process calling itself `local_parent`
 * created and called `local`; 0 if not, -1 if either is unreadable.  Pids
 * inside namespaces are reused and repeat across namespaces: callers match
 * only among processes they already know belong to the session. */
int proc_nslocal_match(pid_t pid, pid_t parent, pid_t local, pid_t local_parent);

/* The last pid the kernel handed out in the caller's PID namespace
 * (/proc/sys/kernel/ns_last_pid): while it stays the same, no process or
 * thread was created in that namespace or one nested in it.  -1 if
 * unreadable.  Meaningful for /proc only when /proc is that namespace's
 * (proc_in_nested_pidns(0) == 0). */
long proc_last_pid(void);

/* "/proc/<pid>/<name>" without snprintf (async-signal-safe). */
int proc_path(char *buf, size_t cap, pid_t pid, const char *name);

#endif
