/* What a process of the browser stack is, from its real executable and
 * command line.  Classification is by what finally runs: the
 * /usr/bin/chromium launcher script counts as the browser it is about to
 * exec, its uname/grep helpers are "other".  Async-signal-safe (the shim classifies in exec wrappers). */
#ifndef CHROMEREAPER_ROLE_H
#define CHROMEREAPER_ROLE_H

#include <stddef.h>

enum cr_role {
    CR_ROLE_UNKNOWN = 0,
    CR_ROLE_OTHER = 1, /* not part of the browser stack (the bot, shell helpers) */
    CR_ROLE_DRIVER = 2,
    CR_ROLE_BROWSER = 3,
    CR_ROLE_ZYGOTE = 4,
    CR_ROLE_RENDERER = 5,
    CR_ROLE_GPU = 6,
    CR_ROLE_UTILITY = 7,
    CR_ROLE_CRASHPAD = 8,
    CR_ROLE_MAX = 8,
};

/* By the real executable `exe` (/proc/<pid>/exe, or the file an exec
 * wrapper is about to run), never by argv[0], which any program sets as it
 * likes: a helper re-exec'd through /proc/self/exe, or one calling itself
 * "chromium", is what its file is.  argv (NULL-terminated) only adds the
 * --type= of a browser's child, and the script a shell runs (argv[1]).  An
 * unknown exe ("" or NULL) is CR_ROLE_UNKNOWN. */
enum cr_role role_classify(const char *exe, const char *const *argv);

/* The same over a /proc/<pid>/cmdline buffer: NUL-separated arguments,
 * `len` bytes. */
enum cr_role role_classify_cmdline(const char *exe, const char *buf, size_t len);

/* The role a fork child of a `parent` process has before it execs: the
 * zygote's forks are renderers, everything else keeps its parent's role. */
enum cr_role role_of_fork_child(enum cr_role parent);

/* Driver, browser and the browser's children: what the reaper owns. */
int role_is_browser_stack(enum cr_role role);

const char *role_name(enum cr_role role);

/* The service a utility process runs, from its --utility-sub-type= (a
 * mojom interface name): its first component, "network.mojom.NetworkService"
 * -> "network", written to `out` (characters other than [A-Za-z0-9_-] are
 * dropped).  Returns 1 if the command line names a sub-type, else 0 (and
 * `out` is ""); whether it is a utility process's is role_classify's. */
int role_utility_subtype_argv(const char *const *argv, char *out, size_t cap);
int role_utility_subtype_cmdline(const char *buf, size_t len, char *out, size_t cap);

/* The value of a --user-data-dir= argument, or NULL. */
const char *role_user_data_dir_argv(const char *const *argv);
const char *role_user_data_dir_cmdline(const char *buf, size_t len);

#endif
