/* Who this process is, and when a child it created started, without a
 * /proc read on every record.
 *
 * The process's own identity (pid and ppid as /proc sees them, start time)
 * is taken once, in the constructor, from /proc/self/stat or from the
 * record its exec wrapper made before the exec; only the constructor writes
 * it, so vfork children may read it.  It describes the process whose
 * getpid() it holds: a fork child inherits a copy that is not its own.
 *
 * A child's start time: the kernel sets start_boottime in copy_process,
 * after copying the parent's memory, and /proc/PID/stat field 22 prints it
 * as nsec_to_clock_t(timens_add_boottime_ns(start_boottime)), in USER_HZ
 * ticks, with the offset of the reader's time namespace.  CLOCK_BOOTTIME
 * read in this process carries the same offset.  So a reading taken before
 * the fork and one taken after it bracket the child's start; when both fall
 * in one tick, that tick is field 22 exactly.  Else /proc decides.
 *
 * The reading before a fork is also left in a thread-local mark, so that
 * the child can bracket its own start (the mark, copied with the memory,
 * was written before the kernel copied it; any older mark is earlier
 * still, so it is a lower bound whatever created the child) with a reading
 * taken when it needs its identity (its exec wrapper).  The mark moves only
 * when the clock has left its tick: an older mark in the same tick
 * brackets the same tick, and every write of the page that holds it costs
 * a copy-on-write fault after a fork (the page is shared with the last
 * child), one per fork instead of one per tick.  Only the thread
 * itself writes its mark, so a vfork child, which shares it while its
 * parent thread is suspended, reads what was there at the vfork.  A child
 * that shares our memory while our thread runs on (clone with CLONE_VM and
 * without CLONE_VFORK) could read a mark left after its creation: once this
 * process made one through the clone wrapper, children go by /proc (one
 * made by a raw clone system call is not seen).  All of this is
 * async-signal-safe: clock_gettime, getpid, getppid. */
#include <errno.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "rawsys.h"
#include "registry.h"
#include "shim.h"

static struct {
    pid_t getpid;        /* getpid() of the process described */
    pid_t pid, ppid;     /* as /proc sees them */
    uint64_t start_time; /* field 22 */
    int nested;          /* in a PID namespace below /proc's: getpid() is not /proc's pid */
    int known;           /* pid, ppid and start_time are filled */
} self;

/* The first processes of a new PID namespace see themselves as pid 1, or
 * their parent outside it as pid 0: what is left to go by when /proc cannot
 * be read (Chrome's sandbox chroots its zygote to an empty directory). */
static int looks_nested(void)
{
    return self.nested || shim_getpid() == 1 || shim_getppid() == 0;
}

static uint64_t tick_ns; /* nanoseconds per USER_HZ tick; 0: never bracket */

static __thread uint64_t creation_mark __attribute__((tls_model("initial-exec")));
static int shares_memory_with_children;

void shim_identity_shared_vm_child(void)
{
    __atomic_store_n(&shares_memory_with_children, 1, __ATOMIC_SEQ_CST);
}

static uint64_t boottime_ns(void)
{
    int saved = errno;
    struct timespec ts;
    uint64_t ns = 0;
    if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
        ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    shim_errno_restore(saved);
    return ns;
}

uint64_t shim_creation_mark(void)
{
    uint64_t now = boottime_ns();
    if (!tick_ns || now / tick_ns != creation_mark / tick_ns)
        creation_mark = now;
    return now;
}

uint64_t shim_creation_mark_read(void)
{
    return creation_mark;
}

uint64_t shim_boottime_ns(void)
{
    return boottime_ns();
}

/* Field 22 of a process that started between `before` and `after`, when
 * both lie in one tick. */
static int bracketed_tick(uint64_t before, uint64_t after, uint64_t *tick)
{
    if (!tick_ns || !before || after < before || before / tick_ns != after / tick_ns)
        return 0;
    *tick = before / tick_ns;
    return 1;
}

static void take_clock_tick(void)
{
    unsigned long hz = getauxval(AT_CLKTCK);
    tick_ns = hz > 0 && 1000000000u % hz == 0 ? 1000000000u / hz : 0;
}

void shim_identity_init(void)
{
    struct proc_stat st;
    take_clock_tick();
    self.getpid = shim_getpid();
    if (proc_stat_read(0, &st) == 0) {
        self.pid = st.pid;
        self.ppid = st.ppid;
        self.start_time = st.start_time;
        self.nested = st.pid != self.getpid;
        self.known = 1;
    } else {
        self.nested = looks_nested();
    }
}

void shim_identity_adopt(const struct cr_entry *e)
{
    take_clock_tick();
    self.getpid = e->pid;
    self.pid = e->pid;
    self.ppid = e->ppid;
    self.start_time = e->start_time;
    self.nested = 0;
    self.known = 1;
}

int shim_identity_start(pid_t *pid, uint64_t *start_time)
{
    if (!self.known || shim_getpid() != self.getpid)
        return -1;
    *pid = self.pid;
    *start_time = self.start_time;
    return 0;
}

/* This process's pid as /proc sees it, and whether it is nested: known
 * without /proc for the process the cache describes and for its children
 * in the same PID namespace (a child in a new one sees its parent as 0). */
static int own_proc_pid(pid_t *pid, int *nested)
{
    pid_t me = shim_getpid();
    if (self.getpid && me == self.getpid && (self.known || self.nested)) {
        *pid = self.known ? self.pid : me;
        *nested = self.nested;
        return 0;
    }
    if (self.known && !self.nested && shim_getppid() == self.pid) {
        *pid = me;
        *nested = 0;
        return 0;
    }
    return -1;
}

/* proc_stat_read with errno as it was: the record path leaves errno
 * alone on its quick paths and so never saves it. */
static int stat_read(pid_t pid, struct proc_stat *st)
{
    int saved = errno;
    int rc = proc_stat_read(pid, st);
    shim_errno_restore(saved);
    return rc;
}

/* The identity from /proc, as before there was a cache: what a process
 * that is neither the cached one nor its child goes by. */
static void self_from_proc(struct cr_entry *e)
{
    struct proc_stat st;
    if (stat_read(0, &st) == 0) {
        e->pid = st.pid;
        e->ppid = st.ppid;
        e->start_time = st.start_time;
        return;
    }
    e->pid = shim_getpid();
    e->ppid = shim_getppid();
    if (looks_nested())
        e->flags |= CR_ENTRY_PIDNS;
}

void shim_identity_self(struct cr_entry *e)
{
    pid_t me = shim_getpid();
    if (self.known && me == self.getpid) {
        e->pid = self.pid;
        e->ppid = self.ppid;
        e->start_time = self.start_time;
        return;
    }
    uint64_t tick;
    if (self.known && !self.nested && shim_getppid() == self.pid &&
        !__atomic_load_n(&shares_memory_with_children, __ATOMIC_SEQ_CST) &&
        bracketed_tick(creation_mark, shim_boottime_raw_ns(), &tick)) {
        e->pid = me;
        e->ppid = self.pid;
        e->start_time = tick;
        return;
    }
    self_from_proc(e);
}

void shim_identity_child(struct cr_entry *e, pid_t pid, uint64_t before, uint64_t after)
{
    pid_t own;
    int nested;
    e->pid = pid;
    if (own_proc_pid(&own, &nested) < 0) {
        struct proc_stat me;
        int self_ok = stat_read(0, &me) == 0;
        nested = self_ok ? me.pid != shim_getpid() : looks_nested();
        own = self_ok ? me.pid : shim_getpid();
    }
    if (nested) {
        /* /proc/<pid> would name some other process */
        e->ppid = shim_getpid();
        e->flags |= CR_ENTRY_PIDNS;
        return;
    }
    e->ppid = own;
    uint64_t tick;
    struct proc_stat st;
    if (bracketed_tick(before, after, &tick))
        e->start_time = tick;
    else if (stat_read(pid, &st) == 0)
        e->start_time = st.start_time;
}
