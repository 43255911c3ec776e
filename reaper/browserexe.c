#include "browserexe.h"

#include <string.h>

#include "procfs.h"
#include "safestr.h"

static const char *const browser_exes[] = {
    "chromium", "chrome", "chromium-browser", "chrome-headless-shell", "headless_shell", NULL,
};

static int name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(name, want, len) == 0;
}

/* The value of the first "--type=" argument, or NULL. */
static const char *type_arg(const char *cmdline, size_t len, size_t *type_len)
{
    static const char flag[] = "--type=";
    const size_t flen = sizeof flag - 1;
    for (size_t i = 0; i + flen <= len; i++) {
        int at_start = i == 0 || cmdline[i - 1] == '\0' || cmdline[i - 1] == ' ';
        if (!at_start || memcmp(cmdline + i, flag, flen) != 0)
            continue;
        size_t end = i + flen;
        while (end < len && cmdline[end] != '\0' && cmdline[end] != ' ')
            end++;
        *type_len = end - i - flen;
        return cmdline + i + flen;
    }
    return NULL;
}

enum cr_role browserexe_role(const char *exe, const char *cmdline, size_t len)
{
    const char *base = cr_basename(exe);
    size_t blen = strlen(base);
    static const char deleted[] = " (deleted)"; /* the package was upgraded under it */
    if (blen > sizeof deleted - 1 && strcmp(base + blen - (sizeof deleted - 1), deleted) == 0)
        blen -= sizeof deleted - 1;
    if (name_is(base, blen, "chromedriver"))
        return CR_ROLE_DRIVER;
    if (name_is(base, blen, "chrome_crashpad_handler") || name_is(base, blen, "crashpad_handler"))
        return CR_ROLE_CRASHPAD;
    int browser = 0;
    for (const char *const *b = browser_exes; *b && !browser; b++)
        browser = name_is(base, blen, *b);
    if (!browser)
        return CR_ROLE_OTHER;
    size_t tlen = 0;
    const char *type = type_arg(cmdline, len, &tlen);
    if (!type)
        return CR_ROLE_BROWSER;
    if (name_is(type, tlen, "zygote"))
        return CR_ROLE_ZYGOTE;
    if (name_is(type, tlen, "renderer"))
        return CR_ROLE_RENDERER;
    if (name_is(type, tlen, "gpu-process"))
        return CR_ROLE_GPU;
    if (name_is(type, tlen, "crashpad-handler"))
        return CR_ROLE_CRASHPAD;
    return CR_ROLE_UTILITY;
}

enum cr_role browserexe_role_of_pid(pid_t pid)
{
    char exe[4096], cmdline[8192];
    size_t len = 0;
    if (proc_exe_read(pid, exe, sizeof exe) < 0 || !exe[0])
        return CR_ROLE_UNKNOWN;
    if (proc_file_read(pid, "cmdline", cmdline, sizeof cmdline, &len) < 0)
        len = 0;
    return browserexe_role(exe, cmdline, len);
}
