/* The host program under the library observes nothing different: its
 * signal dispositions and mask, errno, environ and its children's exit
 * statuses are what they would be without it (tests/fixtures/host_state.c
 * checks each around every wrapped call), and its own exit status passes
 * through. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

static char session[64];

static void setup(void)
{
    struct cr_registry reg;
    ts_session_create(session, sizeof session, &reg);
    registry_close(&reg);
}

static void teardown(void)
{
    ts_kill_session(session);
}

TestSuite(host_state, .init = setup, .fini = teardown, .timeout = 60);

static int run_with(const char *session_or_null, char *const argv[], char **out)
{
    char log[128];
    snprintf(log, sizeof log, "/tmp/crtest-host-%d.out", (int)getpid());
    pid_t pid = ts_spawn(argv, session_or_null, log);
    int st = ts_waitpid(pid, 30);
    *out = ts_slurp(log);
    unlink(log);
    return st;
}

Test(host_state, every_wrapped_call_leaves_the_host_as_it_was)
{
    char *argv[] = {(char *)ts_build("fixtures/host_state"), NULL};
    char *with = NULL, *without = NULL;
    int st_without = run_with(NULL, argv, &without);
    int st_with = run_with(session, argv, &with);
    cr_assert(WIFEXITED(st_without) && WEXITSTATUS(st_without) == 0, "the fixture fails alone: %s", without);
    cr_assert(WIFEXITED(st_with) && WEXITSTATUS(st_with) == 0, "under the library: %s", with);
    cr_assert_str_eq(with, without, "the host saw a difference");
    cr_assert_null(strstr(with, "BAD"));
    cr_assert_geq((int)strlen(with), 200, "too few checks ran: %s", with);
    free(with);
    free(without);
}

Test(host_state, the_hosts_own_exit_status_passes_through)
{
    char *exit7[] = {"/bin/sh", "-c", "exit 7", NULL};
    char *killed[] = {"/bin/sh", "-c", "kill -KILL $$", NULL};
    char *out = NULL;
    int st = run_with(session, exit7, &out);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7, "%#x %s", st, out);
    free(out);
    st = run_with(session, killed, &out);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%#x %s", st, out);
    free(out);
}
