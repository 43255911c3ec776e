/* What the CLI says about itself: `--help`, `help CMD`, `CMD --help`,
 * `--version`, usage errors.  The commands are taken from the overview the
 * CLI prints, so a command added later is checked too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

TestSuite(cli, .timeout = 60);

#define MAX_COMMANDS 32

/* `chromereaper ARGS...` (at most 3), its exit code, its output in *out. */
static int cli(char **out, const char *a, const char *b, const char *c)
{
    char *argv[] = {(char *)ts_build("chromereaper"), (char *)a, (char *)b, (char *)c, NULL};
    return ts_run(argv, out);
}

/* The command names in the overview's "  chromereaper NAME ..." lines. */
static int overview_commands(char names[][32])
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "--help", NULL, NULL), 0);
    int n = 0;
    for (char *line = strtok(out, "\n"); line && n < MAX_COMMANDS; line = strtok(NULL, "\n")) {
        char name[32];
        if (sscanf(line, " chromereaper %31[a-z]", name) == 1 && strcmp(name, "help") != 0)
            snprintf(names[n++], 32, "%s", name);
    }
    free(out);
    return n;
}

Test(cli, every_command_has_its_help_on_stdout_with_status_0)
{
    char names[MAX_COMMANDS][32];
    int n = overview_commands(names);
    cr_assert_geq(n, 4, "the overview lists %d commands", n);
    for (int i = 0; i < n; i++) {
        char *by_help = NULL, *by_flag = NULL, *by_short = NULL, want[64];
        cr_assert_eq(cli(&by_help, "help", names[i], NULL), 0, "help %s", names[i]);
        cr_assert_eq(cli(&by_flag, names[i], "--help", NULL), 0, "%s --help", names[i]);
        cr_assert_eq(cli(&by_short, names[i], "-h", NULL), 0, "%s -h", names[i]);
        snprintf(want, sizeof want, "usage: chromereaper %s ", names[i]);
        cr_assert_eq(strncmp(by_help, want, strlen(want)), 0, "help %s says: %s", names[i], by_help);
        cr_assert_str_eq(by_flag, by_help);
        cr_assert_str_eq(by_short, by_help);
        cr_assert_not_null(strstr(by_help, "--help"), "%s's help does not list --help", names[i]);
        free(by_help);
        free(by_flag);
        free(by_short);
    }
}

Test(cli, run_help_is_not_a_usage_error)
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "run", "--help", NULL), 0, "run --help: %s", out);
    cr_assert_not_null(strstr(out, "--grace SEC"), "%s", out);
    free(out);
}

Test(cli, help_of_no_such_command_is_a_usage_error)
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "help", "nosuch", NULL), 2);
    cr_assert_not_null(strstr(out, "no command 'nosuch'"), "%s", out);
    free(out);
}

Test(cli, a_bad_option_shows_that_commands_synopsis)
{
    char *out = NULL;
    cr_assert_eq(cli(&out, "reap", "--nosuch", NULL), 2);
    cr_assert_not_null(strstr(out, "usage: chromereaper reap ("), "%s", out);
    cr_assert_null(strstr(out, "chromereaper run"), "the whole overview for one command's error: %s", out);
    free(out);
}

Test(cli, version_names_the_program_and_the_registry_format)
{
    char *out = NULL, version[32];
    unsigned format;
    cr_assert_eq(cli(&out, "--version", NULL, NULL), 0);
    cr_assert_eq(sscanf(out, "chromereaper %31[0-9.] (registry format %u)", version, &format), 2, "%s", out);
    cr_assert_eq(format, CR_REGISTRY_VERSION);
    free(out);
}
