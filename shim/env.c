/* The environment a tracked process hands its children: the caller's own
 * entries plus our LD_PRELOAD entry and session cookie where missing.  A
 * new array is built, never the caller's environ written to (gcc and gdb
 * save and restore it around vfork+exec).
 *
 * Where it is built: wrappers run on whatever stack the caller has (a
 * thread's may be 64 KiB) and in vfork children (no malloc), so a small
 * array goes in SHIM_ENV_STACK_BYTES the caller keeps on its stack, and a
 * larger one in an anonymous mapping.  An exec in a vfork child that
 * succeeds leaves that mapping in the parent's address space: the child
 * notes it in `pending` first, and the parent unmaps it when vfork (or a
 * clone with CLONE_VFORK) returns, in shim_env_reclaim. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "safestr.h"
#include "shim.h"

size_t shim_env_count(char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

/* Is our library one of the entries of an LD_PRELOAD value (separated by
 * spaces or colons)?  Entry by entry, with no libc call a fork child would
 * be the first to make (the library is bound lazily: see the Makefile). */
static int preload_has_us(const char *value)
{
    const char *ours = shim_preload_entry + sizeof "LD_PRELOAD=" - 1;
    size_t n = strlen(ours);
    for (const char *p = value; *p;) {
        size_t len = 0;
        while (p[len] && p[len] != ' ' && p[len] != ':')
            len++;
        if (len == n && strncmp(p, ours, n) == 0)
            return 1;
        p += len;
        while (*p == ' ' || *p == ':')
            p++;
    }
    return 0;
}

/* What envp lacks, and where its entries are. */
struct env_scan {
    size_t n;
    ssize_t preload_at, empty_session_at;
    int has_session, preload_ok;
};

static void scan(char *const envp[], struct env_scan *s)
{
    s->n = shim_env_count(envp);
    s->preload_at = s->empty_session_at = -1;
    s->has_session = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
            s->preload_at = (ssize_t)i;
        else if (strncmp(envp[i], "CHROMEREAPER_SESSION=", 21) == 0) {
            if (envp[i][21])
                s->has_session = 1;
            else if (s->empty_session_at < 0)
                s->empty_session_at = (ssize_t)i;
        }
    }
    s->preload_ok = s->preload_at >= 0 && preload_has_us(envp[s->preload_at] + 11);
}

/* Bytes of storage the rebuilt array needs: the slots, then our
 * LD_PRELOAD entry merged with the caller's when it has one. */
static size_t storage_size(char *const envp[], const struct env_scan *s)
{
    size_t size = (s->n + 3) * sizeof(char *);
    if (s->preload_at >= 0 && !s->preload_ok)
        size += strlen(shim_preload_entry) + 1 + strlen(envp[s->preload_at] + 11) + 1;
    return size;
}

/* Builds the array in `store` (storage_size bytes, pointer-aligned). */
static char *const *build(char *const envp[], const struct env_scan *s, char *store)
{
    char **slots = (char **)(void *)store;
    char *preload = store + (s->n + 3) * sizeof(char *);
    size_t out = 0;
    for (size_t i = 0; i < s->n; i++) {
        if ((ssize_t)i == s->preload_at && !s->preload_ok) {
            /* ours first, then whatever the caller preloads */
            const char *theirs = envp[i] + 11;
            size_t ours = strlen(shim_preload_entry);
            memcpy(preload, shim_preload_entry, ours);
            preload[ours] = '\0';
            if (*theirs) {
                preload[ours] = ' ';
                memcpy(preload + ours + 1, theirs, strlen(theirs) + 1);
            }
            slots[out++] = preload;
            continue;
        }
        if (!s->has_session && (ssize_t)i == s->empty_session_at) {
            /* getenv() finds the first one: ours must take its place */
            slots[out++] = shim_session_entry;
            continue;
        }
        slots[out++] = envp[i];
    }
    if (s->preload_at < 0)
        slots[out++] = shim_preload_entry;
    if (!s->has_session && s->empty_session_at < 0)
        slots[out++] = shim_session_entry;
    slots[out] = NULL;
    return slots;
}

/* Mappings a vfork child made and exec'd with: the parent unmaps them. */
#define PENDING_MAX 16
static struct {
    pid_t pid; /* 0: free */
    void *addr;
    size_t len;
} pending[PENDING_MAX];

static int pending_add(void *addr, size_t len)
{
    pid_t self = getpid();
    for (int i = 0; i < PENDING_MAX; i++) {
        pid_t free_slot = 0;
        if (__atomic_compare_exchange_n(&pending[i].pid, &free_slot, -1, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            pending[i].addr = addr;
            pending[i].len = len;
            __atomic_store_n(&pending[i].pid, self, __ATOMIC_RELEASE);
            return i;
        }
    }
    return -1;
}

static void pending_drop(int i)
{
    __atomic_store_n(&pending[i].pid, 0, __ATOMIC_RELEASE);
}

void shim_env_reclaim(pid_t child)
{
    for (int i = 0; child > 0 && i < PENDING_MAX; i++)
        if (__atomic_load_n(&pending[i].pid, __ATOMIC_ACQUIRE) == child) {
            munmap(pending[i].addr, pending[i].len);
            pending_drop(i);
        }
}

int shim_env_carries_session(char *const envp[])
{
    struct env_scan s;
    scan(envp, &s);
    return s.has_session && s.preload_ok;
}

static int warned_untracked;

void shim_env_open(struct shim_env *e, char *const envp[], char *stack, int for_exec)
{
    struct env_scan s;
    e->map = NULL;
    e->len = 0;
    e->pending = -1;
    e->envp = envp;
    scan(envp, &s);
    if (s.has_session && s.preload_ok)
        return;
    size_t size = storage_size(envp, &s);
    if (size <= SHIM_ENV_STACK_BYTES) {
        e->envp = build(envp, &s, stack);
        return;
    }
    int saved = errno;
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map != MAP_FAILED && for_exec && (e->pending = pending_add(map, size)) < 0) {
        munmap(map, size);
        map = MAP_FAILED;
    }
    shim_errno_restore(saved);
    if (map == MAP_FAILED) {
        /* the child runs untracked, with the caller's environment as given */
        if (!__atomic_exchange_n(&warned_untracked, 1, __ATOMIC_RELAXED))
            shim_log(1, "no room to add the session to a child's environment: "
                        "that child is not tracked", NULL);
        return;
    }
    e->map = map;
    e->len = size;
    e->envp = build(envp, &s, map);
}

void shim_env_close(struct shim_env *e)
{
    int saved = errno;
    if (e->pending >= 0)
        pending_drop(e->pending);
    if (e->map)
        munmap(e->map, e->len);
    e->map = NULL;
    e->pending = -1;
    shim_errno_restore(saved);
}
