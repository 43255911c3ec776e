/* reaper/pidns.c's decision as a table: a registry of another PID namespace
 * is acted on only when that namespace is gone, and only a reaper in the
 * initial namespace, which sees every process, can know that. */
#include <criterion/criterion.h>

#include <sys/stat.h>

#include "pidns.h"

struct row {
    uint64_t registry_ns, own_ns;
    int own_is_initial, members_found;
    enum pidns_verdict verdict;
};

Test(pidns_judge, gone_only_when_the_initial_namespace_sees_no_member)
{
    static const struct row rows[] = {
        {7, 7, 1, 0, PIDNS_OWN},
        {7, 7, 0, 1, PIDNS_OWN},
        {8, 7, 1, 1, PIDNS_ALIVE},     /* a live container: its pids are not ours */
        {8, 7, 1, 0, PIDNS_GONE},      /* no process in it or below it */
        {8, 7, 1, -1, PIDNS_UNKNOWN},  /* a process we could not look at */
        {8, 7, 0, 0, PIDNS_UNKNOWN},   /* from a container: the host's namespace is out of view */
        {8, 7, 0, 1, PIDNS_ALIVE},
        {0, 7, 1, 0, PIDNS_UNKNOWN},   /* a registry that does not say */
        {8, 0, 1, 0, PIDNS_UNKNOWN},   /* /proc cannot say ours */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_eq(pidns_judge(rows[i].registry_ns, rows[i].own_ns, rows[i].own_is_initial,
                                 rows[i].members_found),
                     rows[i].verdict, "row %zu", i);
}

/* The facts: this process's own namespace has members (this process). */
Test(pidns_judge, the_own_namespace_has_members)
{
    struct stat st;
    cr_assert_eq(stat("/proc/self/ns/pid", &st), 0);
    cr_assert_eq(pidns_has_members((uint64_t)st.st_ino), 1);
    cr_assert_eq(pidns_verdict_of((uint64_t)st.st_ino), PIDNS_OWN);
}
