/* The CLI's subcommands; each returns the process exit code. */
#ifndef CHROMEREAPER_COMMANDS_H
#define CHROMEREAPER_COMMANDS_H

#include <stdint.h>
#include <stdio.h>

enum exit_code {
    EXIT_DONE = 0,
    EXIT_LEFTOVERS = 1, /* something survived or could not be removed */
    EXIT_USAGE = 2,
    EXIT_REGISTRY = 3,  /* registry missing, corrupt, foreign or of another version */
    EXIT_BUSY = 4,      /* reap: another process held the session's lock too long */
    EXIT_LEAKED = 86,   /* run --fail-on-leak: the command succeeded, the session leaked */
};

int cmd_run(int argc, char **argv);
int cmd_reap(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/* Shared option parsing: "--grace SEC" and "--uid UID" values; each prints
 * the usage error itself and returns -1. */
int parse_seconds(const char *s, double *out);
int parse_uid(const char *s, uint64_t *out);

/* reaper/cli.c: the command table and the help texts. */
struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
    const char *synopsis;              /* after "chromereaper " */
    const char *summary;
    const char *options;               /* one a line: "  --name ARG   what it does" */
};
const struct command *command_find(const char *name); /* NULL: no such command */
/* A usage error, on stderr: the running command's synopsis once
 * help_set_command named it, else the overview. */
void usage(void);
void help_set_command(const struct command *c);
void help_overview(FILE *out);
int help_command(const char *name, FILE *out); /* -1: no such command */
void help_version(FILE *out);

#endif
