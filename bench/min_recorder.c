/* B1's floor under the design, its recording half: the parent's record of
 * a forked child and the child's record of its exec, made the way the
 * shim makes them (shim/fork.c, shim/exec.c, shim/identity.c) with the
 * same registry API, and nothing else.  The records are real: the reaper
 * reads them as it reads the shim's.
 *
 * What the shim does on these paths and this leaves out (none of it runs
 * for a program that forks and execs /bin/true in a session): putting the
 * session back into an environment that lost it, a browser's
 * --user-data-dir record and extra switches, the zygote's handling, the
 * re-exec through /proc/self/exe, nested PID namespaces, giving up
 * tracking when the registry was truncated (no record then), the warning
 * when the table is full, and safety for threads mapping the registry at
 * once (the bench's programs have one thread). */
#include "min_recorder.h"

#include <errno.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>

#include "procfs.h"
#include "rawsys.h"
#include "registry.h"
#include "safestr.h"

static char session_id[CR_SESSION_MAX];
static enum cr_role own_role;
static struct cr_registry reg; /* reg.hdr: mapped */
static size_t page_bytes;
static uint64_t tick_ns; /* nanoseconds per USER_HZ tick; 0: always /proc */

/* CLOCK_BOOTTIME before a fork, and the pid of the process that read it:
 * a child of that process started after the reading.  Written only when
 * they change (a write is a copy-on-write fault in the parent, whose page
 * the last child shares). */
static uint64_t fork_mark;
static pid_t fork_mark_pid;

int minrec_init(const char *session, enum cr_role role)
{
    if (!session || !session_id_valid(session))
        return -1;
    cr_strlcpy(session_id, session, sizeof session_id);
    own_role = role;
    unsigned long page = getauxval(AT_PAGESZ), hz = getauxval(AT_CLKTCK);
    page_bytes = page ? page : 4096;
    tick_ns = hz && 1000000000u % hz == 0 ? 1000000000u / hz : 0;
    return 0;
}

/* The registry, mapped on first use (before a fork: the child inherits
 * it). */
static int registry_mapped(void)
{
    if (!reg.hdr && session_id[0]) {
        int saved = errno;
        if (registry_open(&reg, (uint32_t)getauxval(AT_UID), session_id, 1, NULL, 0) != CR_REG_OK)
            session_id[0] = '\0';
        errno = saved;
    }
    return reg.hdr != NULL;
}

/* Does the file still hold the mapping's last page?  A store past the end
 * of a truncated file is SIGBUS in the host.  The shim's check: mincore,
 * and when the page is not resident, the stat of the path, after which
 * the page is read once so that the next check finds it resident. */
static int registry_intact(void)
{
    const char *last = (const char *)reg.hdr + (reg.map_size - 1) / page_bytes * page_bytes;
    unsigned char resident = 0;
    if (shim_mincore((void *)last, page_bytes, &resident) == 0 && (resident & 1))
        return 1;
    char path[128];
    struct stat st;
    int saved = errno;
    int same = registry_path(path, sizeof path, (uint32_t)getauxval(AT_UID), session_id) >= 0 &&
               stat(path, &st) == 0 && (uint64_t)st.st_dev == reg.file_dev &&
               (uint64_t)st.st_ino == reg.file_ino && (size_t)st.st_size >= reg.map_size;
    errno = saved;
    if (same)
        (void)*(const volatile char *)last;
    return same;
}

static struct cr_entry *reserve(uint64_t *seq)
{
    return registry_mapped() && registry_intact() ? registry_entry_reserve(&reg, seq) : NULL;
}

/* /proc/PID/stat field 22 of a process that started between the two
 * readings, when both lie in one tick; else /proc's. */
static uint64_t start_time(pid_t pid, uint64_t before, uint64_t after)
{
    if (tick_ns && before && after >= before && before / tick_ns == after / tick_ns)
        return before / tick_ns;
    int saved = errno;
    struct proc_stat st;
    uint64_t t = proc_stat_read(pid, &st) == 0 ? st.start_time : 0;
    errno = saved;
    return t;
}

/* Without saving errno: CLOCK_BOOTTIME does not fail, and a write to
 * errno is a copy-on-write fault in a parent that just forked (its page is
 * shared with the child). */
static uint64_t boottime_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

pid_t minrec_fork(minrec_fork_fn real)
{
    (void)registry_mapped();
    pid_t me = shim_getpid();
    uint64_t before = boottime_ns();
    if (fork_mark_pid != me || !tick_ns || before / tick_ns != fork_mark / tick_ns) {
        fork_mark = before;
        fork_mark_pid = me;
    }
    pid_t pid = real();
    if (pid <= 0)
        return pid;
    uint64_t after = boottime_ns(), seq;
    struct cr_entry *e = reserve(&seq);
    if (e) {
        e->pid = pid;
        e->ppid = me;
        e->start_time = start_time(pid, before, after);
        e->seen_by = CR_SEEN_FORK;
        e->role = role_of_fork_child(own_role);
        registry_entry_publish(e, seq);
    }
    return pid;
}

/* This process's record, built in its slot (a fork child's stack pages are
 * copied on its first write to each). */
static void record_self(uint32_t seen_by, const char *path, char *const argv[])
{
    uint64_t seq;
    struct cr_entry *e = reserve(&seq);
    if (!e)
        return;
    e->pid = shim_getpid();
    e->ppid = shim_getppid();
    e->start_time = start_time(0, e->ppid == fork_mark_pid ? fork_mark : 0, shim_boottime_raw_ns());
    e->seen_by = seen_by;
    e->role = argv ? role_classify(path, (const char *const *)argv) : own_role;
    cr_strlcpy(e->exe, path ? path : "", sizeof e->exe);
    registry_entry_publish(e, seq);
}

int minrec_execve(minrec_execve_fn real, const char *path, char *const argv[], char *const envp[])
{
    record_self(CR_SEEN_EXEC, path, argv);
    int rc = real(path, argv, envp);
    int saved = errno;
    /* still running the old image: say so, so the role is not misread */
    record_self(CR_SEEN_EXEC_FAILED, NULL, NULL);
    errno = saved;
    return rc;
}
