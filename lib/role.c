#include "role.h"

#include <string.h>

#include "safestr.h"

#define CMDLINE_COPY_MAX 8192
#define CMDLINE_ARGS_MAX 512

static int name_in(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

static const char *const browser_names[] = {
    "chromium", "chromium-browser", "chrome", "google-chrome", "google-chrome-stable",
    "google-chrome-beta", "google-chrome-unstable", "chrome-headless-shell", "headless_shell",
    NULL,
};
static const char *const shell_names[] = {"sh", "bash", "dash", NULL};

static enum cr_role role_of_type(const char *type)
{
    if (strcmp(type, "zygote") == 0)
        return CR_ROLE_ZYGOTE;
    if (strcmp(type, "renderer") == 0)
        return CR_ROLE_RENDERER;
    if (strcmp(type, "gpu-process") == 0)
        return CR_ROLE_GPU;
    if (strcmp(type, "crashpad-handler") == 0)
        return CR_ROLE_CRASHPAD;
    /* utility, ppapi, broker, nacl-loader...: helpers of the browser */
    return CR_ROLE_UTILITY;
}

/* The file name of the executable, without the " (deleted)" that
 * /proc/<pid>/exe adds once the file was replaced (a package upgrade). */
static const char *exe_name(const char *exe, char *buf, size_t cap)
{
    cr_strlcpy(buf, cr_basename(exe), cap);
    size_t n = strlen(buf), tail = sizeof " (deleted)" - 1;
    if (n > tail && strcmp(buf + n - tail, " (deleted)") == 0)
        buf[n - tail] = '\0';
    return buf;
}

enum cr_role role_classify(const char *exe, const char *const *argv)
{
    if (!exe || !exe[0] || !argv || !argv[0])
        return CR_ROLE_UNKNOWN;
    char name[256];
    const char *prog = exe_name(exe, name, sizeof name);
    size_t first_arg = 1;
    /* "/bin/sh /usr/bin/chromium ...": a launcher script counts as what it
     * runs; the script is the file the shell reads, named by argv[1] */
    if (name_in(prog, shell_names) && argv[1] && argv[1][0] != '-') {
        prog = exe_name(argv[1], name, sizeof name);
        first_arg = 2;
    }
    if (strncmp(prog, "chromedriver", 12) == 0)
        return CR_ROLE_DRIVER;
    if (strcmp(prog, "chrome_crashpad_handler") == 0 || strcmp(prog, "crashpad_handler") == 0)
        return CR_ROLE_CRASHPAD;
    if (!name_in(prog, browser_names))
        return CR_ROLE_OTHER;
    for (size_t i = first_arg; argv[i]; i++) {
        const char *type = cr_env_value(argv[i], "--type");
        if (type)
            return role_of_type(type);
    }
    return CR_ROLE_BROWSER;
}

/* Splits a /proc cmdline into argv.  Chrome's children rewrite their
 * cmdline as one space-joined string, so a single argument is split on
 * spaces too. */
static size_t cmdline_to_argv(const char *buf, size_t len, char *copy, const char **argv)
{
    if (len >= CMDLINE_COPY_MAX)
        len = CMDLINE_COPY_MAX - 1;
    memcpy(copy, buf, len);
    copy[len] = '\0';
    size_t argc = 0;
    size_t used = len;
    while (used > 0 && copy[used - 1] == '\0')
        used--;
    /* no NUL inside the used part: one argument, possibly space-joined */
    int split_spaces = memchr(copy, '\0', used) == NULL;
    char *p = copy, *end = copy + len;
    while (p < end && argc < CMDLINE_ARGS_MAX - 1) {
        while (p < end && (*p == '\0' || (split_spaces && *p == ' ')))
            p++;
        if (p >= end)
            break;
        argv[argc++] = p;
        while (p < end && *p != '\0' && !(split_spaces && *p == ' '))
            p++;
        if (p < end)
            *p++ = '\0';
    }
    argv[argc] = NULL;
    return argc;
}

enum cr_role role_classify_cmdline(const char *exe, const char *buf, size_t len)
{
    char copy[CMDLINE_COPY_MAX];
    const char *argv[CMDLINE_ARGS_MAX];
    if (cmdline_to_argv(buf, len, copy, argv) == 0)
        return CR_ROLE_UNKNOWN;
    return role_classify(exe, argv);
}

enum cr_role role_of_fork_child(enum cr_role parent)
{
    return parent == CR_ROLE_ZYGOTE ? CR_ROLE_RENDERER : parent;
}

int role_is_browser_stack(enum cr_role role)
{
    return role >= CR_ROLE_DRIVER && role <= CR_ROLE_CRASHPAD;
}

const char *role_name(enum cr_role role)
{
    static const char *const names[] = {
        [CR_ROLE_UNKNOWN] = "unknown", [CR_ROLE_OTHER] = "other",
        [CR_ROLE_DRIVER] = "driver",   [CR_ROLE_BROWSER] = "browser",
        [CR_ROLE_ZYGOTE] = "zygote",   [CR_ROLE_RENDERER] = "renderer",
        [CR_ROLE_GPU] = "gpu",         [CR_ROLE_UTILITY] = "utility",
        [CR_ROLE_CRASHPAD] = "crashpad",
    };
    return (unsigned)role <= CR_ROLE_MAX ? names[role] : "invalid";
}

int role_utility_subtype_argv(const char *const *argv, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (size_t i = 1; argv && argv[0] && argv[i]; i++) {
        const char *v = cr_env_value(argv[i], "--utility-sub-type");
        if (!v)
            continue;
        size_t n = 0;
        for (; *v && *v != '.' && n + 1 < cap; v++) {
            int ok = (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
                     (*v >= '0' && *v <= '9') || *v == '_' || *v == '-';
            if (ok)
                out[n++] = *v;
        }
        out[n] = '\0';
        return n > 0;
    }
    return 0;
}

int role_utility_subtype_cmdline(const char *buf, size_t len, char *out, size_t cap)
{
    char copy[CMDLINE_COPY_MAX];
    const char *argv[CMDLINE_ARGS_MAX];
    if (cmdline_to_argv(buf, len, copy, argv) == 0) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    return role_utility_subtype_argv(argv, out, cap);
}

const char *role_user_data_dir_argv(const char *const *argv)
{
    const char *found = NULL;
    for (size_t i = 1; argv && argv[0] && argv[i]; i++) {
        const char *v = cr_env_value(argv[i], "--user-data-dir");
        if (v && *v)
            found = v; /* Chrome honours the last one */
    }
    return found;
}

const char *role_user_data_dir_cmdline(const char *buf, size_t len)
{
    /* Arguments are NUL-separated here; the value points into buf. */
    const char *found = NULL;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        size_t n = strnlen(p, (size_t)(end - p));
        if (n > 16 && p + n < end && strncmp(p, "--user-data-dir=", 16) == 0)
            found = p + 16;
        p += n + 1;
    }
    return found;
}
