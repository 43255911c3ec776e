/* reaper/pidlist.c: the /proc listing the monitor uses to skip the stat
 * reads of records whose process is certainly dead. */
#include <criterion/criterion.h>

#include <sys/wait.h>
#include <unistd.h>

#include "pidlist.h"

Test(pidlist, holds_the_living_and_not_the_reaped)
{
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0)
        _exit(0);
    cr_assert_eq(waitpid(child, NULL, 0), child);
    struct pidlist l;
    pidlist_take(&l);
    cr_expect(l.complete);
    cr_expect(pidlist_may_hold(&l, getpid()), "our own pid is not listed");
    cr_expect(pidlist_may_hold(&l, getppid()), "our parent is not listed");
    cr_expect_not(pidlist_may_hold(&l, child), "a reaped child is listed");
    for (size_t i = 1; i < l.n; i++)
        cr_expect_lt(l.v[i - 1], l.v[i], "not sorted at %zu", i);
    pidlist_free(&l);
}

Test(pidlist, an_incomplete_list_rules_nothing_out)
{
    struct pidlist l = {0};
    cr_expect(pidlist_may_hold(&l, 12345));
}
