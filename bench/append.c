/* B3: the registry's lock-free append, from 1 process and from 8 processes
 * at once, into a fresh registry of the default capacity; then a check that
 * no entry was lost or duplicated; then the cost of an append refused by a
 * full registry (the overflow path every fork pays once a session's table
 * is full).  One JSON object per measurement on stdout:
 *
 *   append ROUNDS TOTAL      (TOTAL appends per round, split among writers)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"

#define MAX_WRITERS 8

struct shared {
    int go;
    long long t0[MAX_WRITERS], t1[MAX_WRITERS];
    int refused[MAX_WRITERS];
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Bytes of the registry's shared-memory object actually allocated. */
static long long resident(const char *id)
{
    char path[128];
    struct stat st;
    if (registry_path(path, sizeof path, (uint32_t)getuid(), id) < 0 || stat(path, &st) < 0)
        return -1;
    return (long long)st.st_blocks * 512;
}

static void fill(struct cr_entry *e, long index)
{
    memset(e, 0, sizeof *e);
    e->pid = getpid();
    e->ppid = getppid();
    e->start_time = (uint64_t)index; /* the verifier finds (writer, index) pairs by these */
    e->seen_by = CR_SEEN_FORK;
    e->role = 3;
    strcpy(e->exe, "/usr/lib/chromium/chromium");
}

static void writer(struct cr_registry *reg, struct shared *sh, int w, long per)
{
    struct cr_entry e;
    fill(&e, 0);
    while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
        sched_yield();
    long long t0 = now_ns();
    int refused = 0;
    for (long i = 0; i < per; i++) {
        e.start_time = (uint64_t)i;
        refused += registry_append(reg, &e) < 0;
    }
    sh->t1[w] = now_ns();
    sh->t0[w] = t0;
    sh->refused[w] = refused;
}

/* Every (writer pid, index) must be present exactly once. */
static int verify(struct cr_registry *reg, const pid_t *pids, int writers, long per, long *lost,
                  long *dup)
{
    unsigned char *seen = calloc((size_t)writers * (size_t)per, 1);
    if (!seen)
        return -1;
    *lost = 0;
    *dup = 0;
    uint32_t n = registry_entry_count(reg);
    struct cr_entry e;
    for (uint32_t i = 0; i < n; i++) {
        if (!registry_entry_read(reg, i, &e))
            continue;
        int w = -1;
        for (int k = 0; k < writers; k++)
            if (pids[k] == e.pid)
                w = k;
        if (w < 0 || e.start_time >= (uint64_t)per) {
            (*dup)++; /* a record nobody wrote counts against us */
            continue;
        }
        unsigned char *s = &seen[(size_t)w * (size_t)per + e.start_time];
        if (*s)
            (*dup)++;
        *s = 1;
    }
    for (size_t i = 0; i < (size_t)writers * (size_t)per; i++)
        *lost += !seen[i];
    free(seen);
    return 0;
}

static int one_round(int round, int writers, long total)
{
    char id[CR_SESSION_MAX];
    snprintf(id, sizeof id, "bench-%d-append-%d-%d", (int)getpid(), round, writers);
    struct cr_registry reg;
    if (registry_create(&reg, id, CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT) != CR_REG_OK) {
        fprintf(stderr, "append: cannot create registry %s: %s\n", id, strerror(errno));
        return -1;
    }
    long long fresh_resident = resident(id);
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return -1;
    memset(sh, 0, sizeof *sh);
    long per = total / writers;
    pid_t pids[MAX_WRITERS];
    for (int w = 0; w < writers; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            writer(&reg, sh, w, per);
            _exit(0);
        }
    }
    usleep(20000); /* all writers spinning on the flag */
    __atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
    for (int w = 0; w < writers; w++)
        waitpid(pids[w], NULL, 0);
    long long first = sh->t0[0], last = sh->t1[0], busy = 0;
    int refused = 0;
    for (int w = 0; w < writers; w++) {
        if (sh->t0[w] < first)
            first = sh->t0[w];
        if (sh->t1[w] > last)
            last = sh->t1[w];
        busy += sh->t1[w] - sh->t0[w];
        refused += sh->refused[w];
    }
    long lost, dup;
    if (verify(&reg, pids, writers, per, &lost, &dup) < 0)
        return -1;
    printf("{\"kind\":\"append\",\"writers\":%d,\"round\":%d,\"appends\":%ld,"
           "\"ns_per_append\":%.2f,\"ns_per_append_per_writer\":%.2f,"
           "\"lost\":%ld,\"duplicated\":%ld,\"refused\":%d,\"overflow\":%u}\n",
           writers, round, per * writers, (double)(last - first) / (double)(per * writers),
           (double)busy / (double)(per * writers), lost, dup, refused, registry_overflow(&reg));

    if (writers == 1) {
        /* fill the table, then time appends the full table refuses */
        struct cr_entry e;
        fill(&e, 0);
        while (registry_append(&reg, &e) >= 0)
            ;
        long refuse = 2000;
        long long t0 = now_ns();
        for (long i = 0; i < refuse; i++)
            registry_append(&reg, &e);
        long long t1 = now_ns();
        printf("{\"kind\":\"full\",\"round\":%d,\"ns_per_refused_append\":%.2f,"
               "\"resident_fresh\":%lld,\"resident_full\":%lld,\"size\":%zu}\n",
               round, (double)(t1 - t0) / (double)refuse, fresh_resident, resident(id), reg.map_size);
    }
    fflush(stdout);
    munmap(sh, sizeof *sh);
    registry_close(&reg);
    registry_unlink((uint32_t)getuid(), id);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: append ROUNDS TOTAL\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    long total = atol(argv[2]);
    if (rounds < 1 || total < MAX_WRITERS || total > CR_ENTRY_CAPACITY_DEFAULT) {
        fprintf(stderr, "append: ROUNDS >= 1, %d <= TOTAL <= %u\n", MAX_WRITERS,
                CR_ENTRY_CAPACITY_DEFAULT);
        return 2;
    }
    /* interleaved: 1 writer, 8 writers, 1, 8, ... */
    for (int r = 0; r < rounds; r++)
        if (one_round(r, 1, total) < 0 || one_round(r, MAX_WRITERS, total) < 0)
            return 1;
    return 0;
}
