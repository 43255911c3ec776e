/* Lock-free appends under real contention and under SIGKILL.
 *
 * Every entry is self-checking (ut_entry_make: each byte is a function of
 * (writer, seq)), so a torn or mixed committed entry cannot go unnoticed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "unit_support.h"

TestSuite(registry_concurrency, .fini = ut_cleanup);

#define WRITERS 16
#define PER_WRITER 5000
#define CAPACITY 81920u

/* Child: prepares its entries, waits at the barrier, appends them all (a
 * loop of nothing but appends: as much contention as possible), exits 0 if
 * all were accepted (1 otherwise).  Never returns. */
static void writer_main(struct cr_registry *reg, int barrier_fd, int writer)
{
    static struct cr_entry prepared[PER_WRITER];
    for (int seq = 0; seq < PER_WRITER; seq++)
        ut_entry_make(&prepared[seq], writer, seq);
    char c;
    ssize_t n;
    do
        n = read(barrier_fd, &c, 1); /* EOF when the parent opens the gate */
    while (n < 0 && errno == EINTR);
    int refused = 0;
    for (int seq = 0; seq < PER_WRITER; seq++)
        if (registry_append(reg, &prepared[seq]) < 0)
            refused++;
    _exit(refused ? 1 : 0);
}

Test(registry_concurrency, sixteen_writers_race, .timeout = 120)
{
    struct cr_registry reg;
    char session[CR_SESSION_MAX];
    ut_registry_create(&reg, session, CAPACITY, 16);
    /* children inherit the mapping; the name is not needed any more */
    cr_assert_eq(registry_unlink((uint32_t)getuid(), session), 0);

    int gate[2];
    cr_assert_eq(pipe(gate), 0);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = ut_fork();
        if (pids[w] == 0) {
            close(gate[1]);
            writer_main(&reg, gate[0], w + 1);
        }
    }
    close(gate[0]);
    close(gate[1]); /* all writers start now */

    for (int w = 0; w < WRITERS; w++) {
        int status = ut_wait(pids[w]);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "writer %d: status 0x%x (1 = some appends refused)", w + 1, status);
    }

    const uint32_t total = WRITERS * PER_WRITER;
    cr_assert_eq(registry_entry_count(&reg), total);
    cr_assert_eq(registry_overflow(&reg), 0u);
    cr_assert_eq(reg.hdr->entry_next, total, "no slot reserved twice or skipped");

    /* seen[w][seq]: every (writer, seq) pair exactly once */
    static unsigned char seen[WRITERS][PER_WRITER];
    memset(seen, 0, sizeof seen);
    uint32_t torn = 0, uncommitted = 0, dup = 0;
    for (uint32_t i = 0; i < total; i++) {
        struct cr_entry e;
        if (!registry_entry_read(&reg, i, &e)) {
            uncommitted++;
            continue;
        }
        if (!ut_entry_check(&e) || e.pid < 1 || e.pid > WRITERS || e.ppid >= PER_WRITER) {
            torn++;
            continue;
        }
        if (seen[e.pid - 1][e.ppid]++)
            dup++;
    }
    cr_expect_eq(uncommitted, 0u, "slots not committed although every writer finished");
    cr_expect_eq(torn, 0u, "torn committed entries");
    cr_expect_eq(dup, 0u, "duplicated entries");
    uint32_t missing = 0;
    for (int w = 0; w < WRITERS; w++)
        for (int s = 0; s < PER_WRITER; s++)
            missing += !seen[w][s];
    cr_expect_eq(missing, 0u, "missing (writer, seq) pairs");

    /* nothing was written past the table */
    struct cr_dir d;
    for (uint32_t i = 0; i < 16; i++)
        cr_expect_not(registry_dir_read(&reg, i, &d));
    registry_close(&reg);
}

/* ------------------------------------------------------------ SIGKILL */

#define ROUNDS 50
#define KILL_CAPACITY 65536u
#define ROUND_QUOTA (KILL_CAPACITY / ROUNDS) /* the table never overflows */

/* Child: prepares its entries, makes one guaranteed append, tells the
 * parent, then does nothing but append (so that the SIGKILL lands inside
 * registry_append as often as possible) up to its quota; then waits to be
 * killed. */
static void victim_main(struct cr_registry *reg, int ready_fd, int round)
{
    static struct cr_entry prepared[ROUND_QUOTA];
    for (int seq = 0; seq < (int)ROUND_QUOTA; seq++)
        ut_entry_make(&prepared[seq], round, seq);
    if (registry_append(reg, &prepared[0]) < 0)
        _exit(1);
    char c = 'r';
    if (ut_write_all(ready_fd, &c, 1) < 0)
        _exit(1);
    for (int seq = 1; seq < (int)ROUND_QUOTA; seq++)
        if (registry_append(reg, &prepared[seq]) < 0)
            _exit(1);
    for (;;)
        pause();
}

Test(registry_concurrency, writers_killed_mid_append, .timeout = 120)
{
    struct cr_registry reg;
    char session[CR_SESSION_MAX];
    ut_registry_create(&reg, session, KILL_CAPACITY, 0);
    cr_assert_eq(registry_unlink((uint32_t)getuid(), session), 0);

    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int round = 1; round <= ROUNDS; round++) {
        int ready[2];
        cr_assert_eq(pipe(ready), 0);
        pid_t pid = ut_fork();
        if (pid == 0) {
            close(ready[0]);
            victim_main(&reg, ready[1], round);
        }
        close(ready[1]);
        char c;
        int got = ut_read_all(ready[0], &c, 1);
        close(ready[0]);
        cr_assert_eq(got, 0, "round %d: victim died before its first append", round);
        usleep((useconds_t)(rand_r(&seed) % 400));
        kill(pid, SIGKILL);
        int status = ut_wait(pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "round %d: victim ended otherwise (status 0x%x)", round, status);
    }

    cr_assert_eq(registry_overflow(&reg), 0u);
    const uint32_t count = registry_entry_count(&reg);
    cr_assert_leq(count, KILL_CAPACITY);

    /* Slots are used in order, round after round, one writer at a time: each
     * round is a run of committed entries seq 0..k-1 (seq 0 always: it was
     * appended before the parent let the kill go), possibly followed by the
     * one slot its writer had reserved when it died. */
    uint32_t committed = 0, holes = 0, torn = 0, bad_order = 0;
    int cur_round = 0, next_seq = 0, holes_since = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct cr_entry e;
        if (!registry_entry_read(&reg, i, &e)) {
            uint32_t st = __atomic_load_n(&reg.entries[i].state, __ATOMIC_ACQUIRE);
            cr_expect(CR_SLOT_STATE(st) == CR_SLOT_RESERVED || CR_SLOT_STATE(st) == CR_SLOT_EMPTY,
                      "slot %u: state %u and yet not readable", i, st);
            holes++;
            if (cur_round == 0 || ++holes_since > 1)
                bad_order++;
            continue;
        }
        committed++;
        if (!ut_entry_check(&e)) {
            torn++;
            continue;
        }
        if (e.pid == cur_round && holes_since == 0 && e.ppid == next_seq) {
            next_seq++; /* the round goes on */
        } else if (e.pid == cur_round + 1 && e.ppid == 0) {
            cur_round++; /* the next round starts */
            next_seq = 1;
        } else if (bad_order++ < 5) {
            cr_log_error("slot %u: round %d seq %d after round %d seq %d (%d holes)", i,
                         e.pid, e.ppid, cur_round, next_seq - 1, holes_since);
        }
        holes_since = 0;
    }
    cr_expect_eq(torn, 0u, "torn committed entries");
    cr_expect_eq(bad_order, 0u, "entries out of order, lost or duplicated");
    cr_expect_eq(cur_round, ROUNDS, "every round's entries are there");
    cr_expect_geq(committed, (uint32_t)ROUNDS);
    cr_expect_leq(holes, (uint32_t)ROUNDS, "at most one dead slot per killed writer");
    cr_expect_eq(committed + holes, count);
    if (getenv("CR_UNIT_VERBOSE"))
        cr_log_info("%u committed, %u slots left by killed writers", committed, holes);
    registry_close(&reg);
}
