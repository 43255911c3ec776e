#include "leak.h"

#include <string.h>

enum leak_verdict leak_process(const struct leak_facts *f)
{
    if (f->not_a_target)
        return LEAK_NOT_A_TARGET;
    if (f->other_uid)
        return LEAK_OTHER_UID;
    if (!role_is_browser_stack(f->role))
        return LEAK_NOT_A_BROWSER;
    if (f->claimed)
        return LEAK_CLAIMED;
    if (f->in_service)
        return LEAK_IN_SERVICE;
    if (!f->orphaned)
        return LEAK_NOT_ORPHANED;
    if (f->role == CR_ROLE_BROWSER && !f->automated)
        return LEAK_INTERACTIVE;
    /* crash handlers are orphans by design (double fork): only one without
     * a live client is left over */
    if (f->role == CR_ROLE_CRASHPAD && f->client_alive)
        return LEAK_HAS_CLIENT;
    if (!f->old_enough)
        return LEAK_TOO_YOUNG;
    return LEAK_YES;
}

const char *leak_verdict_name(enum leak_verdict v)
{
    static const char *const names[] = {
        [LEAK_YES] = "leaked",
        [LEAK_NOT_A_TARGET] = "not a target",
        [LEAK_OTHER_UID] = "another uid's",
        [LEAK_NOT_A_BROWSER] = "not a browser",
        [LEAK_CLAIMED] = "a live session's",
        [LEAK_IN_SERVICE] = "a service's",
        [LEAK_NOT_ORPHANED] = "its parent is alive",
        [LEAK_INTERACTIVE] = "not automated",
        [LEAK_HAS_CLIENT] = "its browser is alive",
        [LEAK_TOO_YOUNG] = "too young",
    };
    return (unsigned)v <= LEAK_TOO_YOUNG ? names[v] : "?";
}

const char *leftover_kind(const char *name)
{
    static const struct {
        const char *prefix, *kind;
    } kinds[] = {
        /* the more specific prefix first */
        {"org.chromium.Chromium.scoped_dir", "chromedriver profile"},
        {".org.chromium.Chromium.scoped_dir", "chromedriver profile"},
        {"org.chromium.Chromium.", "Chromium temp directory"},
        {".org.chromium.Chromium.", "Chromium temp directory"},
        {"com.google.Chrome.scoped_dir", "chromedriver profile"},
        {".com.google.Chrome.scoped_dir", "chromedriver profile"},
        {"com.google.Chrome.", "Chrome temp directory"},
        {".com.google.Chrome.", "Chrome temp directory"},
        {"puppeteer_dev_chrome_profile-", "Puppeteer profile"},
        {"playwright_chromiumdev_profile-", "Playwright profile"},
        {"playwright-artifacts-", "Playwright artifacts"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        size_t n = strlen(kinds[i].prefix);
        /* something must follow the prefix: the random part */
        if (strncmp(name, kinds[i].prefix, n) == 0 && name[n] && !strchr(name, '/'))
            return kinds[i].kind;
    }
    return NULL;
}

enum leftover_verdict leftover_dir(const struct leftover_facts *f)
{
    if (!f->kind)
        return LEFTOVER_UNKNOWN_NAME;
    if (!f->is_dir)
        return LEFTOVER_NOT_A_DIR;
    if (f->other_uid)
        return LEFTOVER_OTHER_UID;
    if (f->in_use)
        return LEFTOVER_IN_USE;
    if (!f->old_enough)
        return LEFTOVER_TOO_YOUNG;
    return LEFTOVER_YES;
}

const char *leftover_verdict_name(enum leftover_verdict v)
{
    static const char *const names[] = {
        [LEFTOVER_YES] = "leftover",         [LEFTOVER_UNKNOWN_NAME] = "not a browser's",
        [LEFTOVER_NOT_A_DIR] = "not a directory", [LEFTOVER_OTHER_UID] = "another uid's",
        [LEFTOVER_IN_USE] = "in use",        [LEFTOVER_TOO_YOUNG] = "too young",
    };
    return (unsigned)v <= LEFTOVER_TOO_YOUNG ? names[v] : "?";
}

int leak_cmdline_automated(const char *cmdline, size_t len)
{
    static const char *const marks[] = {
        "--enable-automation", "--remote-debugging-port=", "--remote-debugging-pipe",
        "--headless", "--test-type=webdriver",
    };
    for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1) {
        /* Chrome's helpers may join their command line with spaces; the
         * main process keeps argv as it was given */
        const char *arg = cmdline + i;
        for (size_t m = 0; m < sizeof marks / sizeof *marks; m++) {
            size_t n = strlen(marks[m]);
            int prefix = marks[m][n - 1] == '=';
            if (strncmp(arg, marks[m], n) == 0 && (prefix || arg[n] == '\0' || arg[n] == '='))
                return 1;
        }
    }
    return 0;
}

/* The path of the line starting with `prefix` ("0::"), up to its newline. */
static const char *cgroup_path(const char *cgroup, const char *prefix, size_t *len)
{
    size_t n = strlen(prefix);
    for (const char *line = cgroup; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, prefix, n) != 0)
            continue;
        const char *path = line + n, *end = strchr(path, '\n');
        *len = end ? (size_t)(end - path) : strlen(path);
        return path;
    }
    return NULL;
}

int leak_cgroup_is_service(const char *cgroup)
{
    size_t len = 0;
    const char *path = cgroup_path(cgroup, "0::", &len);
    if (!path || len <= 1) {
        /* "/" or none: a hybrid set-up names the unit in name=systemd's
         * hierarchy, whose id varies */
        path = NULL;
        const char *hit = strstr(cgroup, ":name=systemd:");
        if (hit) {
            path = hit + sizeof ":name=systemd:" - 1;
            const char *end = strchr(path, '\n');
            len = end ? (size_t)(end - path) : strlen(path);
        }
    }
    static const char suffix[] = ".service";
    const size_t slen = sizeof suffix - 1;
    return path && len > slen && memcmp(path + len - slen, suffix, slen) == 0;
}
