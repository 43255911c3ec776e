/* reaper/launcher.c's decision as a table: a session whose root is still
 * alive is reaped by its watchdog only when the process that launched the
 * root is gone and the root's executable, as the kernel names it, is a
 * browser's or a driver's. */
#include <criterion/criterion.h>

#include "launcher.h"

struct row {
    const char *exe;
    int launcher_gone;
    int reap;
};

Test(launcher, reap_due_only_for_a_browser_root_whose_launcher_is_gone)
{
    static const struct row rows[] = {
        {"/usr/lib/chromium/chromium", 1, 1},
        {"/usr/lib/chromium/chromium", 0, 0},           /* the launcher still runs it */
        {"/usr/lib/chromium/chromium (deleted)", 1, 1}, /* upgraded under it */
        {"/opt/google/chrome/chrome", 1, 1},
        {"/usr/bin/chromedriver", 1, 1},                /* a driver started by a Go program */
        {"/usr/bin/python3.11", 1, 0},                  /* the bot: `nohup bot &`, the shell gone */
        {"/usr/bin/node", 1, 0},
        {"/usr/bin/dash", 1, 0},                        /* /usr/bin/chromium before its exec */
        {"", 1, 0},                                     /* unreadable */
        {"/tmp/chromium-lookalike", 1, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_eq(launcher_reap_due(rows[i].exe, rows[i].launcher_gone), rows[i].reap,
                     "%s, launcher %s", rows[i].exe, rows[i].launcher_gone ? "gone" : "alive");
}
