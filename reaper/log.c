#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level threshold = LOG_WARN;

void log_init(void)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const char *env = getenv("CHROMEREAPER_LOG");
    for (int i = 0; env && i < 4; i++)
        if (strcmp(env, names[i]) == 0)
            threshold = (enum log_level)i;
}

int log_enabled(enum log_level level) { return level <= threshold; }

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("chromereaper: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
