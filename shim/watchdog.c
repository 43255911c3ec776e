/* Preload-only mode: the root of a new session starts `chromereaper watch`,
 * which reaps the session when the root dies, however it dies.  The watchdog
 * is detached (double fork + setsid: a kill of the bot's process group does
 * not reach it, and it is nobody's child in the bot), holds none of the
 * bot's file descriptors (a pipe or terminal it kept open would hang the
 * bot's readers), and runs without the shim or the cookie, so it is never
 * recorded or reaped itself.  Runs in the constructor, before main. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safestr.h"
#include "shim.h"

extern char **environ;

/* <dir of lib>/chromereaper (the build tree), else <prefix>/bin/chromereaper
 * for <prefix>/lib/chromereaper/libchromereaper.so (installed). */
static int reaper_beside(const char *lib, char *out, size_t len)
{
    static const char *const rel[] = {"/chromereaper", "/../../bin/chromereaper"};
    for (size_t i = 0; i < 2; i++) {
        if (cr_strlcpy(out, lib, len) >= len)
            return -1;
        char *slash = strrchr(out, '/');
        if (!slash)
            return -1;
        *slash = '\0';
        if (cr_strlcat(out, rel[i], len) < len && access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* $CHROMEREAPER_REAPER, else beside the library as LD_PRELOAD names it,
 * else beside the file that name resolves to: LD_PRELOAD may name a
 * symlink (/usr/lib/libchromereaper.so -> the installed copy).  The
 * session's root runs this once, in its constructor, where realpath's
 * allocation is allowed. */
static int find_reaper(char *out, size_t len)
{
    const char *env = shim_env("CHROMEREAPER_REAPER");
    if (env && *env)
        return cr_strlcpy(out, env, len) < len && access(out, X_OK) == 0 ? 0 : -1;
    const char *lib = shim_preload_entry + sizeof "LD_PRELOAD=" - 1;
    if (reaper_beside(lib, out, len) == 0)
        return 0;
    char real[PATH_MAX];
    return realpath(lib, real) && strcmp(real, lib) != 0 ? reaper_beside(real, out, len) : -1;
}

/* The caller's environment without LD_PRELOAD and the session cookie. */
static char **watchdog_env(void)
{
    size_t n = shim_env_count(environ), k = 0;
    char **env = malloc((n + 1) * sizeof *env);
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
            strncmp(environ[i], "CHROMEREAPER_SESSION=", 21) != 0)
            env[k++] = environ[i];
    env[k] = NULL;
    return env;
}

void shim_start_watchdog(const char *session)
{
    const char *off = shim_env("CHROMEREAPER_WATCHDOG");
    if (off && strcmp(off, "0") == 0)
        return;
    char reaper[PATH_MAX];
    if (find_reaper(reaper, sizeof reaper) < 0) {
        shim_log(1, "no watchdog: cannot find the chromereaper binary (set CHROMEREAPER_REAPER); "
                    "run `chromereaper reap --stale` after the bot", NULL);
        return;
    }
    char **env = watchdog_env();
    /* the watchdog's exec reports its failure through a close-on-exec pipe:
     * end of file is success */
    int report[2] = {-1, -1};
    if (!env || pipe2(report, O_CLOEXEC) < 0) {
        shim_log(1, "no watchdog: ", strerror(errno));
        free(env);
        return;
    }
    /* the bot's terminal, by name: the watchdog reopens it for each line it
     * logs there and never holds it (a terminal it kept would stay busy) */
    char tty[128];
    char *argv[] = {reaper, "watch", "--session", (char *)session, NULL, NULL, NULL};
    if (isatty(2) && ttyname_r(2, tty, sizeof tty) == 0) {
        argv[4] = "--terminal";
        argv[5] = tty;
    }
    pid_t first = shim_real.fork();
    if (first == 0) {
        setsid();
        if (shim_real.fork() != 0)
            _exit(0);
        /* above 0-2, which /dev/null takes: the host may have closed them */
        int fd = fcntl(report[1], F_DUPFD_CLOEXEC, 3);
        close_range(0, (unsigned)fd - 1, 0);
        close_range((unsigned)fd + 1, ~0u, 0);
        int null = open("/dev/null", O_RDWR);
        if (null == 0) {
            dup2(0, 1);
            dup2(0, 2);
        }
        if (chdir("/") == 0)
            shim_real.execve(reaper, argv, env);
        int err = errno;
        ssize_t w = write(fd, &err, sizeof err);
        (void)w;
        _exit(127);
    }
    close(report[1]);
    int err = first < 0 ? errno : 0;
    if (first > 0) {
        waitpid(first, NULL, 0);
        ssize_t n;
        while ((n = read(report[0], &err, sizeof err)) < 0 && errno == EINTR)
            ;
        if (n != (ssize_t)sizeof err)
            err = 0;
    }
    close(report[0]);
    if (err) {
        char why[PATH_MAX + 128];
        cr_strlcpy(why, reaper, sizeof why);
        cr_strlcat(why, ": ", sizeof why);
        cr_strlcat(why, strerror(err), sizeof why);
        shim_log(1, "no watchdog: cannot start ", why);
    }
    free(env);
}
