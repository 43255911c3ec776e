#include "regguard.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define GUARD_SLOTS 64

static struct {
    void *addr; /* atomic; NULL: free */
    size_t len;
} guarded[GUARD_SLOTS];
static int installed;
/* A slot being filled: its length is not written yet. */
#define CLAIMED ((void *)1)
static unsigned replaced;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    char *fault = si->si_addr;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        char *a = __atomic_load_n(&guarded[i].addr, __ATOMIC_ACQUIRE);
        if (a && a != CLAIMED && fault >= a && fault < a + guarded[i].len) {
            /* same place, same size: the reader's pointers stay valid */
            if (mmap(a, guarded[i].len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
                __atomic_fetch_add(&replaced, 1, __ATOMIC_RELAXED);
                return; /* the faulting access is retried, on zeroes */
            }
        }
    }
    /* not ours: the default action, when the access is retried */
    signal(sig, SIG_DFL);
}

void regguard_install(void)
{
    if (__atomic_exchange_n(&installed, 1, __ATOMIC_ACQ_REL))
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

void regguard_add(void *addr, size_t len)
{
    if (!__atomic_load_n(&installed, __ATOMIC_ACQUIRE) || !addr)
        return;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        void *none = NULL;
        if (__atomic_compare_exchange_n(&guarded[i].addr, &none, CLAIMED, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            guarded[i].len = len;
            __atomic_store_n(&guarded[i].addr, addr, __ATOMIC_RELEASE);
            return;
        }
    }
}

void regguard_remove(void *addr)
{
    for (int i = 0; addr && i < GUARD_SLOTS; i++) {
        void *a = addr;
        __atomic_compare_exchange_n(&guarded[i].addr, &a, NULL, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
}

unsigned regguard_replaced(void)
{
    return __atomic_load_n(&replaced, __ATOMIC_RELAXED);
}
