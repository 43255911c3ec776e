/* The registry must not fill up in a bot that runs for weeks: records of
 * rounds that were reaped are recycled, nothing that is still alive is
 * lost, and the overflow counter stays 0 — over more records than the
 * registry has slots. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

#define ROUNDS 5
#define CHURN "2000"

static char outdir[256], session[64];
static pid_t run_pid = -1;

static void setup(void)
{
    ts_tmpdir(outdir, sizeof outdir, "recycle");
    snprintf(session, sizeof session, "crtest-recycle-%d", (int)getpid());
}

static void teardown(void)
{
    if (run_pid > 0) {
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        pid_t kids[64];
        int n = ts_descendants(run_pid, kids, 64);
        for (int i = 0; i < n; i++)
            ts_kill(kids[i], SIGKILL);
        ts_kill(run_pid, SIGKILL);
        ts_waitpid(run_pid, 10);
    }
    ts_kill_session(session);
    ts_rm_rf(outdir);
}

TestSuite(recycle, .init = setup, .fini = teardown, .timeout = 180);

Test(recycle, more_records_than_slots_and_nothing_alive_lost)
{
    char rounds[8], log[300], done[300], keeper[300];
    snprintf(rounds, sizeof rounds, "%d", ROUNDS);
    snprintf(log, sizeof log, "%s/run.log", outdir);
    snprintf(done, sizeof done, "%s/done", outdir);
    snprintf(keeper, sizeof keeper, "%s/keeper", outdir);
    char *argv[] = {(char *)ts_build("chromereaper"), "run", "--session", session, "--",
                    (char *)ts_build("fixtures/rounds_bot"), "bot", rounds, CHURN, outdir, NULL};
    run_pid = ts_spawn(argv, NULL, log);
    cr_assert_eq(ts_wait_file(done, 150), 0, "the fixture bot did not finish its rounds");
    pid_t keep[2];
    cr_assert_eq(ts_read_pids(keeper, keep, 2), 2);

    struct cr_registry reg;
    cr_assert_eq(registry_open(&reg, (uint32_t)getuid(), session, 0, NULL, 0), CR_REG_OK);
    uint64_t appended = __atomic_load_n(&reg.hdr->entry_next, __ATOMIC_ACQUIRE);
    uint32_t overflow = registry_overflow(&reg), capacity = reg.entry_capacity;
    uint32_t rounds_reaped = reg.hdr->rounds_reaped;
    /* the keeper's records are still there, and nothing is torn */
    int keeper_seen[2] = {0, 0};
    struct cr_entry e;
    for (uint32_t i = 0; i < registry_entry_count(&reg); i++)
        if (registry_entry_read(&reg, i, &e))
            for (int k = 0; k < 2; k++)
                keeper_seen[k] |= e.pid == keep[k];
    registry_close(&reg);
    fprintf(stderr, "[recycle] %llu records appended into %u slots, %u rounds reaped, overflow %u\n",
            (unsigned long long)appended, capacity, rounds_reaped, overflow);
    cr_assert_gt(appended, capacity, "the test must record more than the registry holds");
    cr_assert_eq(overflow, 0u, "records were lost to overflow");
    cr_assert_geq(rounds_reaped, (uint32_t)ROUNDS, "only %u rounds were reaped", rounds_reaped);
    cr_assert(keeper_seen[0] && keeper_seen[1], "a live process lost its record (driver %d, child %d)",
              keeper_seen[0], keeper_seen[1]);
    cr_assert(ts_alive(keep[0]) && ts_alive(keep[1]), "the keeper round was reaped while alive");

    /* the end of the bot still reaps the keeper: its records were kept */
    pid_t kids[4];
    cr_assert_eq(ts_descendants(run_pid, kids, 1), 1);
    ts_kill(kids[0], SIGKILL);
    int st = ts_waitpid(run_pid, 60);
    run_pid = -1;
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL, "%#x", st);
    cr_assert_not(ts_alive(keep[0]) || ts_alive(keep[1]), "the keeper survived the end of the session");
}
