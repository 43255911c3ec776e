#include "tempname.h"

#include <string.h>

/* Prefixes of the last component (a leading '.' is optional for Chrome's). */
static const char *const chrome_prefixes[] = {
    "org.chromium.Chromium.",
    "com.google.Chrome.",
};
static const char *const library_prefixes[] = {
    "puppeteer_dev_chrome_profile-",
    "playwright_chromiumdev_profile-",
    "playwright-artifacts-",
};

static int has_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 && s[n] != '\0';
}

int temp_name_known(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    const char *name = slash ? slash + 1 : path;
    if (!name || !*name)
        return 0;
    for (size_t i = 0; i < sizeof library_prefixes / sizeof *library_prefixes; i++)
        if (has_prefix(name, library_prefixes[i]))
            return 1;
    if (name[0] == '.')
        name++;
    for (size_t i = 0; i < sizeof chrome_prefixes / sizeof *chrome_prefixes; i++)
        if (has_prefix(name, chrome_prefixes[i]))
            return 1;
    return 0;
}
