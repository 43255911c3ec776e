#include "dirpolicy.h"

#include <string.h>

enum dir_verdict dir_policy(const struct dir_facts *f)
{
    if (!f->birth_known)
        return DIR_KEEP_BIRTH_UNKNOWN;
    if (!f->born_in_session)
        return DIR_KEEP_OLDER_THAN_SESSION;
    if (!f->in_temp_dir)
        return DIR_KEEP_NOT_TEMPORARY;
    if (!f->given_to_browser && !f->known_name)
        return DIR_KEEP_NEVER_GIVEN;
    if (!f->identity)
        return DIR_KEEP_NO_IDENTITY;
    if (f->used_by > 0)
        return DIR_KEEP_IN_USE;
    if (f->round_reap && !f->made_by_round)
        return DIR_KEEP_UNTIL_SESSION_ENDS;
    return DIR_REMOVE;
}

const char *dir_verdict_why(enum dir_verdict v)
{
    static const char *const why[] = {
        [DIR_REMOVE] = "",
        [DIR_KEEP_BIRTH_UNKNOWN] = "the filesystem does not say when it was made",
        [DIR_KEEP_OLDER_THAN_SESSION] = "made before the session",
        [DIR_KEEP_NOT_TEMPORARY] = "outside a temporary directory",
        [DIR_KEEP_NEVER_GIVEN] = "never given to a browser",
        [DIR_KEEP_NO_IDENTITY] = "no recorded identity to check it by",
        [DIR_KEEP_IN_USE] = "in use by a live process",
        [DIR_KEEP_UNTIL_SESSION_ENDS] = "the bot's profile: removed when the session ends",
    };
    return why[v];
}

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

int dir_known_temp_name(const char *path)
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
