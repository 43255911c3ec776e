/* reaper/proctable.c: a pinned process of the table's uid is listed with
 * what the kernel says of its pidfd (uid, parent), and its stat is read
 * only when asked for, from the process the pidfd pins. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "../../reaper/proctable.h"

static pid_t sleeper(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

Test(proctable, a_pinned_process_is_read_when_asked_and_only_while_it_holds_its_pid)
{
    pid_t alive = sleeper(), reaped = sleeper(), zombie = sleeper();
    struct proctable t;
    cr_assert_eq(proctable_snapshot_pinned(&t, getuid(), 4096), 0);
    struct proc_node *a = proctable_find(&t, alive), *r = proctable_find(&t, reaped), *z = proctable_find(&t, zombie);
    cr_assert(a && r && z);
    if (a->pidfd < 0) {
        proctable_free(&t);
        kill(alive, SIGKILL), kill(reaped, SIGKILL), kill(zombie, SIGKILL);
        waitpid(alive, NULL, 0), waitpid(reaped, NULL, 0), waitpid(zombie, NULL, 0);
        cr_skip_test("no PIDFD_GET_INFO: the scan reads every stat");
    }
    cr_expect_eq(a->facts, 0, "not read by the scan");
    cr_expect_eq(a->ppid, getpid(), "the parent, from the kernel");
    cr_expect_eq(a->uid, getuid());

    struct proc_stat st;
    cr_assert_eq(proc_stat_read(alive, &st), 0);
    cr_expect_eq(proctable_facts(a), 0);
    cr_expect_eq(a->start_time, st.start_time);
    cr_expect_neq(a->state, 'Z');

    /* reaped after the scan, its pid another process's now (where the
     * namespace lets us hand it out again): that one's stat is no answer */
    kill(reaped, SIGKILL);
    waitpid(reaped, NULL, 0);
    pid_t successor = -1;
    FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
    if (f && fprintf(f, "%d", (int)reaped - 1) > 0 && fclose(f) == 0) {
        successor = sleeper();
        f = NULL;
    } else if (f) {
        fclose(f);
    }
    if (successor == reaped)
        cr_expect_eq(proc_stat_read(reaped, &st), 0, "the pid names a process again");
    cr_expect_eq(proctable_facts(r), -1, "gone");
    cr_expect_eq(proctable_facts(r), -1, "and stays gone");
    if (successor > 0) {
        kill(successor, SIGKILL);
        waitpid(successor, NULL, 0);
    }

    /* dead but not reaped: it still holds its pid */
    kill(zombie, SIGKILL);
    struct pollfd pf = {.fd = z->pidfd, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 10000), 1);
    cr_expect_eq(proctable_facts(z), 0);
    cr_expect_eq(z->state, 'Z');

    proctable_free(&t);
    kill(alive, SIGKILL);
    waitpid(alive, NULL, 0);
    waitpid(zombie, NULL, 0);
}
