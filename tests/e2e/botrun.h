/* One run of a real bot (Puppeteer, Playwright, the Go launcher) for the
 * e2e suites: started under `chromereaper run` or under LD_PRELOAD alone,
 * with a TMPDIR of its own (where the libraries and Chrome make their
 * temporary profiles), ended one of the ways bots end, and then checked:
 * nothing of the browser left — no chromium, chromedriver or crashpad
 * process below the test (a subreaper: orphans come back to it), nothing
 * in its TMPDIR, no registry or watchdog of its sessions — and the bot's
 * exit status and output what they are without the library. */
#ifndef CHROMEREAPER_TEST_BOTRUN_H
#define CHROMEREAPER_TEST_BOTRUN_H

#include <sys/types.h>

enum br_mode { BR_RUN, BR_PRELOAD };

#define BR_MAX_SESSIONS 4

struct botrun {
    enum br_mode mode;
    char outdir[256], tmpdir[300], ready[300], waitfile[300], out[300], err[300];
    char run_session[64];              /* BR_RUN: the session `run` makes */
    char sessions[BR_MAX_SESSIONS][64]; /* BR_PRELOAD: sessions seen at ready time */
    int nsessions;
    pid_t top;     /* the process the test started: `run`, or the bot itself */
    pid_t bot;     /* the bot (the first pid of its ready file) */
    pid_t browser; /* its browser, once br_find_browser found it */
};

/* The suite's .init and .fini: a private directory, the test a subreaper. */
void br_setup(struct botrun *b, const char *tag);
void br_teardown(struct botrun *b);

/* Starts argv (NULL-terminated; argv[0] a path) in `mode`.  The bot's
 * stdout and stderr go to b->out and b->err; its TMPDIR is b->tmpdir. */
void br_start(struct botrun *b, enum br_mode mode, char *const argv[]);

/* Waits until the bot wrote its pid to b->ready (or fails the test);
 * returns the pid. */
pid_t br_wait_ready(struct botrun *b);
/* Notes the session whose root is `root` (waiting until it has one with a
 * watchdog): once the bot has ended, br_expect_clean wants it gone. */
void br_note_session_of(struct botrun *b, pid_t root);

/* The bot's browser: its child whose executable is chromium (waits for it
 * to exec); fails the test if there is none. */
pid_t br_find_browser(struct botrun *b);

/* Waits for the started process to end; returns its status as `run`
 * reports a command's (exit code, 128+N for signal N). */
int br_wait_end(struct botrun *b);

/* Live chromium, chromedriver and crashpad processes below the test. */
int br_browser_procs(void);
/* Entries left in the bot's TMPDIR, each logged. */
int br_tmp_entries(const struct botrun *b);

/* Waits (bounded) until nothing of the browser is left, then asserts it:
 * no browser process, an empty TMPDIR, and no registry or watchdog left of
 * the sessions noted.  `how` names the case in messages. */
void br_expect_clean(struct botrun *b, const char *how);

/* The bot's stdout is exactly `expected`; its stderr holds `in_err` (when
 * not NULL) and, in preload mode, no line of the library's. */
void br_expect_output(const struct botrun *b, const char *expected, const char *in_err);

#endif
