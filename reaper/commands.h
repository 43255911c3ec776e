/* The CLI's subcommands; each returns the process exit code. */
#ifndef CHROMEREAPER_COMMANDS_H
#define CHROMEREAPER_COMMANDS_H

#include <stdint.h>

enum exit_code {
    EXIT_DONE = 0,
    EXIT_LEFTOVERS = 1, /* something survived or could not be removed */
    EXIT_USAGE = 2,
    EXIT_REGISTRY = 3,  /* registry missing, corrupt, foreign or of another version */
};

int cmd_run(int argc, char **argv);
int cmd_reap(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* Shared option parsing: "--grace SEC" and "--uid UID" values; each prints
 * the usage error itself and returns -1. */
int parse_seconds(const char *s, double *out);
int parse_uid(const char *s, uint64_t *out);
void usage(void);

#endif
