/* Helpers for the suites that run real chromium: Chrome's temp directories
 * in /tmp, a bystander chromium started outside the tool (which must survive
 * every reap), and counting browser processes machine-wide. */
#ifndef CHROMEREAPER_TEST_BROWSER_H
#define CHROMEREAPER_TEST_BROWSER_H

#include <sys/types.h>

#define TB_MAX_DIRS 512

struct tb_dirset {
    char *v[TB_MAX_DIRS];
    int n;
};

/* Chrome temp directories (org.chromium.Chromium.*, with or without a
 * leading dot) in `tmp`.  Tests run in parallel: each gives its browser a
 * TMPDIR of its own (Chrome and chromedriver honour it) and looks there. */
void tb_chrome_dirs(struct tb_dirset *s, const char *tmp);
int tb_dirset_has(const struct tb_dirset *s, const char *path);
/* How many of `now` are not in `before` (printing them when `label`). */
int tb_dirset_new(const struct tb_dirset *before, const struct tb_dirset *now, const char *label);
void tb_dirset_free(struct tb_dirset *s);

struct tb_bystander {
    pid_t pid;
    char udd[256];
    char tag[64]; /* CRTEST_BYSTANDER=<pid>: in the environment of all its processes */
    struct tb_dirset dirs; /* the /tmp dirs it made */
};

/* Starts headless chromium with its own profile, outside any session, and
 * waits until it serves; the test process becomes a subreaper so the
 * bystander's orphans can be reaped by tb_bystander_stop. */
void tb_bystander_start(struct tb_bystander *b, const char *logdir);
int tb_bystander_alive(const struct tb_bystander *b);
void tb_bystander_stop(struct tb_bystander *b);

/* Live (not zombie) processes named chromium, chromedriver or
 * chrome_crashpad_handler below the calling process, the bystander's
 * (when given) left out.  The caller is a subreaper (tb_bystander_start
 * makes it one), so what its bots leak — orphans included — stays below it,
 * and parallel tests do not see each other's. */
int tb_count_browser_procs(const struct tb_bystander *b);

/* Live processes carrying `entry` ("NAME=value") in their environment. */
int tb_pids_with_env(const char *entry, pid_t *out, int max);

/* The session whose root is `root` (from `chromereaper ls --json`), or -1. */
int tb_session_of_root(pid_t root, char *id, size_t len);

/* Live pids of a session as `chromereaper ls --session ID --json` sees them. */
int tb_session_live_pids(const char *id, pid_t *out, int max);

/* Does `pid` map a chromereaper registry writable?  1 yes, 0 no, -1 its
 * maps cannot be read. */
int tb_maps_registry_writable(pid_t pid);

/* A child of a zygote (its parent runs --type=zygote) that is not a zygote
 * itself: a renderer, or a gpu or utility process the zygote forked. */
int tb_zygote_child(pid_t pid);

#endif
