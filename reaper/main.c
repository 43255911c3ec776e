/* chromereaper: reap what a browser bot's Chrome left behind.  See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "regguard.h"
#include "safestr.h"

int parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0 && v <= 3600))
        return -1;
    *out = v;
    return 0;
}

int parse_uid(const char *s, uint64_t *out)
{
    if (cr_parse_u64(s, out) < 0 || *out > UINT32_MAX) {
        fprintf(stderr, "chromereaper: --uid takes a numeric uid\n");
        return -1;
    }
    return 0;
}

static int is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

/* `help [CMD]`: the overview or one command's help, on stdout. */
static int help(int argc, char **argv)
{
    if (argc == 2) {
        help_overview(stdout);
        return EXIT_DONE;
    }
    if (argc == 3 && help_command(argv[2], stdout) == 0)
        return EXIT_DONE;
    if (argc == 3)
        fprintf(stderr, "chromereaper: no command '%s'\n", argv[2]);
    else
        fprintf(stderr, "chromereaper: help takes one command name\n");
    usage();
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    log_init();
    regguard_install(); /* a registry truncated under us reads as empty, never SIGBUS */
    if (argc < 2) {
        usage();
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (is_help(cmd))
        return help(2, argv);
    if (strcmp(cmd, "help") == 0)
        return help(argc, argv);
    if (strcmp(cmd, "--version") == 0) {
        help_version(stdout);
        return EXIT_DONE;
    }
    const struct command *c = command_find(cmd);
    if (c) {
        help_set_command(c);
        if (argc > 2 && is_help(argv[2])) {
            help_command(cmd, stdout);
            return EXIT_DONE;
        }
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "chromereaper: unknown command '%s'\n", cmd);
    usage();
    return EXIT_USAGE;
}
