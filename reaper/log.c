#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "safestr.h"

static enum log_level threshold = LOG_WARN;
static const char *log_file;    /* $CHROMEREAPER_LOG_FILE */
static int to_stderr = 1;
static int to_syslog;
static char terminal[128];

void log_init(void)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const char *env = getenv("CHROMEREAPER_LOG");
    for (int i = 0; env && i < 4; i++)
        if (strcmp(env, names[i]) == 0)
            threshold = (enum log_level)i;
    env = getenv("CHROMEREAPER_LOG_FILE");
    log_file = env && *env ? env : NULL;
}

void log_detached(const char *tty)
{
    struct stat st;
    to_stderr = 0;
    if (stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode)) {
        openlog("chromereaper", LOG_PID, LOG_USER);
        to_syslog = 1;
    }
    /* only a terminal: a pipe or file of the bot's is not ours to write */
    if (tty && strncmp(tty, "/dev/", 5) == 0 && stat(tty, &st) == 0 && S_ISCHR(st.st_mode))
        cr_strlcpy(terminal, tty, sizeof terminal);
}

int log_enabled(enum log_level level) { return level <= threshold; }

static void append_to(const char *path, int flags, const char *line, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | flags, 0600);
    if (fd < 0)
        return;
    ssize_t ignored = write(fd, line, len);
    (void)ignored;
    close(fd);
}

static void emit(enum log_level level, const char *msg)
{
    static const int priority[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char line[1200];
    int n = snprintf(line, sizeof line, "chromereaper: %s\n", msg);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (to_stderr)
        fputs(line, stderr);
    if (terminal[0])
        append_to(terminal, O_NONBLOCK, line, len);
    if (to_syslog)
        syslog(priority[level], "%s", msg);
    if (log_file) {
        char stamped[1300];
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
        n = snprintf(stamped, sizeof stamped, "%s chromereaper[%d]: %s\n", when, (int)getpid(), msg);
        len = n < 0 ? 0 : (size_t)n < sizeof stamped ? (size_t)n : sizeof stamped - 1;
        append_to(log_file, O_CREAT, stamped, len);
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, msg);
}

void log_text(enum log_level level, const char *text)
{
    if (!log_enabled(level) || !text)
        return;
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        char msg[1024];
        if (len >= sizeof msg)
            len = sizeof msg - 1;
        memcpy(msg, text, len);
        msg[len] = '\0';
        /* the report's own lines start with "chromereaper: " too */
        emit(level, strncmp(msg, "chromereaper: ", 14) == 0 ? msg + 14 : msg);
        text = nl ? nl + 1 : text + strlen(text);
    }
}
