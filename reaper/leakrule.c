/* What the leak gate counts (history.h): pure functions of reap outcomes,
 * kept apart so the tests can check them as tables. */
#include <string.h>

#include "history.h"

int history_proc_is_leak(enum target_outcome o)
{
    return o == OUTCOME_TERMINATED || o == OUTCOME_KILLED || o == OUTCOME_SURVIVED;
}

/* "org.chromium.Chromium." or "com.google.Chrome." (either with a leading
 * dot) and mkdtemp's six characters: Chrome's singleton directory. */
static int is_chrome_singleton(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (*base == '.')
        base++;
    static const char *const prefixes[] = {"org.chromium.Chromium.", "com.google.Chrome."};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(base, prefixes[i], n) != 0)
            continue;
        const char *rest = base + n;
        if (strlen(rest) != 6)
            return 0;
        for (const char *c = rest; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                return 0;
        return 1;
    }
    return 0;
}

int history_dir_is_leak(const char *path, enum dir_action a)
{
    if (a == DIR_FAILED)
        return 1;
    return a == DIR_REMOVED && !is_chrome_singleton(path);
}
