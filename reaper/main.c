/* chromereaper: reap what a browser bot's Chrome left behind.  See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "safestr.h"

void usage(void)
{
    fputs("usage:\n"
          "  chromereaper run [--session ID] [--grace SEC] -- CMD [ARG...]\n"
          "  chromereaper reap (--session ID | --stale | --all) [--uid UID] [--grace SEC] [--dry-run] [--json]\n"
          "  chromereaper ls [--session ID] [--uid UID] [--tree] [--json]\n"
          "  chromereaper watch --session ID [--grace SEC]   (the preload mode's watchdog)\n"
          "exit codes: 0 done, 1 something survived or could not be removed, 2 usage,\n"
          "            3 registry missing, corrupt, foreign or of another version\n",
          stderr);
}

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

int main(int argc, char **argv)
{
    log_init();
    if (argc < 2) {
        usage();
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "reap") == 0)
        return cmd_reap(argc - 1, argv + 1);
    if (strcmp(cmd, "ls") == 0)
        return cmd_ls(argc - 1, argv + 1);
    if (strcmp(cmd, "watch") == 0)
        return cmd_watch(argc - 1, argv + 1);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage();
        return EXIT_DONE;
    }
    fprintf(stderr, "chromereaper: unknown command '%s'\n", cmd);
    usage();
    return EXIT_USAGE;
}
