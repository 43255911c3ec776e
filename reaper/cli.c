/* The CLI's commands: the table main() dispatches on, and what the CLI says
 * about itself: the overview, each command's help (`chromereaper help CMD`,
 * `chromereaper CMD --help`) and the version.  The man page chromereaper(1)
 * says the same at length; a test checks that every option listed here is
 * in it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "registry.h"

#define CHROMEREAPER_VERSION "0.1.0"

static const struct command commands[] = {
    {"run", cmd_run, "run [--session ID] [--grace SEC] [--metrics-file PATH] [--report FILE] [--fail-on-leak]"
     " [--max-browsers N] [--max-round-age SEC] [--max-rss MIB] -- CMD [ARG...]",
     "Runs CMD as a new session with the library preloaded, as its subreaper: forwards\n"
     "INT, TERM, HUP, QUIT, USR1 and USR2 to it, reaps what each driver round leaves\n"
     "behind while it runs, reaps the whole session when it exits, and exits with its\n"
     "status (128+N if it died of signal N).\n",
     "  --session ID   the session's id ([A-Za-z0-9._-], at most 63; default: a new one)\n"
     "  --grace SEC    seconds from SIGTERM to SIGKILL, for CMD after a forwarded fatal\n"
     "                 signal and for the reap (0 to 3600, default 2)\n"
     "  --metrics-file PATH  Prometheus textfile metrics, rewritten after each reap\n"
     "  --report FILE  when the session ends, write its history as JSON\n"
     "                 (docs/report.schema.json)\n"
     "  --fail-on-leak exit 86 when CMD succeeded but the session had browser\n"
     "                 processes or directories to reap\n"
     "  --max-browsers N     circuit breaker: reap the oldest live round beyond N\n"
     "  --max-round-age SEC  circuit breaker: reap a round older than SEC\n"
     "  --max-rss MIB        circuit breaker: reap the oldest rounds while the\n"
     "                 session's browsers use more than MIB mebibytes (Pss)\n"},
    {"reap", cmd_reap, "reap (--session ID | --stale | --all) [--uid UID] [--grace SEC] [--dry-run] [--json]"
     " [--metrics-file PATH] [--timings]",
     "Kills a session's browser processes, leaves first, removes the directories they\n"
     "made, and reports each; then removes the registry if nothing is left.\n",
     "  --session ID   the session to reap\n"
     "  --stale        every session of the uid whose root process is dead\n"
     "  --all          every session of the uid\n"
     "  --uid UID      another uid's sessions (root only)\n"
     "  --grace SEC    seconds from SIGTERM to SIGKILL (0 to 3600, default 2)\n"
     "  --dry-run      print the plan, signal and remove nothing\n"
     "  --json         the report as JSON\n"
     "  --metrics-file PATH  Prometheus textfile metrics, written after the reap\n"
     "  --timings      after each session's reap, one line on stderr: the\n"
     "                 milliseconds of its phases (scan, plan, freeze, signal,\n"
     "                 wait, dirs) and the total\n"},
    {"ls", cmd_ls, "ls [--session ID] [--uid UID] [--tree [--helpers]] [--json]",
     "Lists the uid's sessions, or one session's processes and directories.\n",
     "  --session ID   one session's processes, roles and directories\n"
     "  --uid UID      another uid's sessions\n"
     "  --tree         nest the processes by creator, each driver round a subtree\n"
     "  --helpers      with --tree: list the launcher script's finished helpers\n"
     "                 (uname, grep...) instead of one line for them\n"
     "  --json         as JSON\n"},
    {"doctor", cmd_doctor, "doctor [--fix [--dry-run]] [--older-than DURATION] [--grace SEC] [--json]",
     "Lists what is leaked on this machine for the caller's uid, whoever leaked it:\n"
     "browser processes no live session owns (orphaned, automated, older than\n"
     "--older-than), leftover temp directories of Chrome, chromedriver, Puppeteer and\n"
     "Playwright that no live process uses, and stale sessions; with --fix, removes\n"
     "them.  Exit 1 when something is leaked (without --fix) or could not be fixed.\n",
     "  --fix          reap the stale sessions, kill the leaked processes, remove the\n"
     "                 leftover directories\n"
     "  --dry-run      with --fix: show the plan, touch nothing\n"
     "  --older-than DURATION  only what is at least this old: 90s, 30m, 1h, 2d\n"
     "                 (default 1h)\n"
     "  --grace SEC    seconds from SIGTERM to SIGKILL (0 to 3600, default 2)\n"
     "  --json         as one JSON document\n"},
    {"watch", cmd_watch,
     "watch --session ID [--grace SEC] [--metrics-file PATH] [--supervisor-fd FD] [--terminal TTY]",
     "The watchdog (started by the library and by run, rarely by hand): sweeps the\n"
     "uid's stale sessions, holds a pidfd on the session's root, reaps each finished\n"
     "driver round, and reaps the whole session once the root and the rest of the\n"
     "bot's side (a daemon it forked) are dead.\n",
     "  --session ID   the session to watch\n"
     "  --grace SEC    seconds from SIGTERM to SIGKILL (0 to 3600, default 2)\n"
     "  --metrics-file PATH  Prometheus textfile metrics, rewritten after each reap\n"
     "                 (default: $CHROMEREAPER_METRICS_FILE)\n"
     "  --supervisor-fd FD  a pidfd on run: wait for run to die, then take over if\n"
     "                 run did not reap the session\n"
     "  --terminal TTY  also write log lines to this terminal (the bot's)\n"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *current;

const struct command *command_find(const char *name)
{
    for (size_t i = 0; name && i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void help_set_command(const struct command *c) { current = c; }

static const char exit_codes[] =
    "exit codes: 0 done, 1 something survived or could not be removed, 2 usage,\n"
    "            3 registry missing, corrupt, foreign or of another version,\n"
    "            4 (reap) the session's lock held by another process for over 10 s;\n"
    "            run: CMD's status (128+N for signal N), or 86 from --fail-on-leak\n";

void help_overview(FILE *out)
{
    fputs("usage:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  chromereaper %s\n", commands[i].synopsis);
    fputs("  chromereaper help [CMD]   (or chromereaper CMD --help)\n"
          "  chromereaper --version\n",
          out);
    fputs(exit_codes, out);
    fputs("See chromereaper(1) and libchromereaper(7).\n", out);
}

int help_command(const char *name, FILE *out)
{
    const struct command *c = command_find(name);
    if (!c)
        return -1;
    fprintf(out, "usage: chromereaper %s\n\n%s\noptions:\n%s  -h, --help     this help\n\n", c->synopsis,
            c->summary, c->options);
    fputs(exit_codes, out);
    return 0;
}

/* A usage error: the command's own synopsis when one is running. */
void usage(void)
{
    if (!current) {
        help_overview(stderr);
        return;
    }
    fprintf(stderr, "usage: chromereaper %s\n(chromereaper help %s for the options)\n", current->synopsis,
            current->name);
}

void help_version(FILE *out)
{
    fprintf(out, "chromereaper %s (registry format %u)\n", CHROMEREAPER_VERSION, CR_REGISTRY_VERSION);
}
