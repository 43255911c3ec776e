#include "human.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void human_bytes(uint64_t bytes, char *out, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(out, cap, "%llu B", (unsigned long long)bytes);
        return;
    }
    double v = (double)bytes / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024;
        u++;
    }
    snprintf(out, cap, "%.1f %s", v, units[u]);
}

void human_duration(double seconds, char *out, size_t cap)
{
    if (!(seconds > 0))
        seconds = 0;
    if (seconds < 60)
        snprintf(out, cap, "%.0f s", seconds);
    else if (seconds < 3600)
        snprintf(out, cap, "%.0f min", seconds / 60);
    else if (seconds < 86400)
        snprintf(out, cap, "%.0f h", seconds / 3600);
    else
        snprintf(out, cap, "%.0f d", seconds / 86400);
}

void human_ago(double seconds, char *out, size_t cap)
{
    human_duration(seconds, out, cap);
    size_t len = strlen(out);
    if (len < cap)
        snprintf(out + len, cap - len, " ago");
}

double human_parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0))
        return -1;
    double unit = 1;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (strcmp(end, "d") == 0)
        unit = 86400;
    else
        return -1;
    v *= unit;
    return v <= 10.0 * 365 * 86400 ? v : -1;
}
