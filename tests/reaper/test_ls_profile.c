/* `ls` shows each browser's profile directory.  Entries carry none (layout 3
 * keeps them at 256 bytes): a browser records the --user-data-dir of its
 * command line as a directory record of its own pid and start time, and
 * that record is the profile `ls` shows for it, in text and in JSON. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "role.h"
#include "safestr.h"
#include "support.h"

static char session[64];
static struct cr_registry reg;

static void setup(void) { ts_session_create(session, sizeof session, &reg); }

static void teardown(void)
{
    registry_close(&reg);
    ts_session_remove(session);
}

TestSuite(ls_profile, .init = setup, .fini = teardown, .timeout = 60);

/* pids no process has here (the suite runs in a PID namespace of its own,
 * and these are past what the machine hands out): the rows are "exited" */
#define BROWSER 3999001
#define RENDERER 3999002
#define OTHER_BROWSER 3999003

static void entry(pid_t pid, uint64_t start, enum cr_role role, const char *exe)
{
    struct cr_entry e;
    memset(&e, 0, sizeof e);
    e.pid = pid;
    e.ppid = 1;
    e.start_time = start;
    e.seen_by = CR_SEEN_EXEC;
    e.role = role;
    cr_strlcpy(e.exe, exe, sizeof e.exe);
    cr_assert_geq(registry_append(&reg, &e), 0);
}

static void dir(pid_t pid, uint64_t start, enum cr_dir_origin origin, const char *path)
{
    struct cr_dir d;
    memset(&d, 0, sizeof d);
    d.pid = pid;
    d.start_time = start;
    d.origin = origin;
    d.flags = CR_DIR_ABSENT_AT_LAUNCH;
    cr_strlcpy(d.path, path, sizeof d.path);
    cr_assert_geq(registry_append_dir(&reg, &d), 0);
}

/* The ls line (text) or JSON object of `pid`, cut from `listing` (malloc'd). */
static char *part_of(const char *listing, pid_t pid, int json)
{
    char key[64];
    snprintf(key, sizeof key, json ? "{\"pid\":%d," : "\n%-8d ", (int)pid);
    const char *at = strstr(listing, key);
    cr_assert_not_null(at, "pid %d not listed:\n%s", (int)pid, listing);
    at += json ? 0 : 1;
    return strndup(at, strcspn(at, json ? "}" : "\n"));
}

/* `ls` of the session, text or JSON, into *out (malloc'd). */
static void ls(int json, char **out)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "ls", "--session", session,
                    json ? "--json" : NULL, NULL};
    int rc = ts_run(argv, out);
    cr_assert_eq(rc, 0, "ls exited %d: %s", rc, *out);
}

Test(ls_profile, a_browser_shows_its_user_data_dir_record_and_nothing_else_does)
{
    const char *profile = "/home/automation-user/bots/shop-watcher/profiles/account-42";
    entry(BROWSER, 111, CR_ROLE_BROWSER, "/usr/lib/chromium/chromium");
    entry(RENDERER, 222, CR_ROLE_RENDERER, "/usr/lib/chromium/chromium");
    entry(OTHER_BROWSER, 333, CR_ROLE_BROWSER, "/usr/lib/chromium/chromium");
    dir(BROWSER, 111, CR_DIR_USER_DATA_DIR, profile);
    /* the renderer's pid, another start time: a process that had its pid before */
    dir(RENDERER, 999, CR_DIR_USER_DATA_DIR, "/tmp/earlier-profile");
    /* a directory it made is not its profile */
    dir(RENDERER, 222, CR_DIR_MKDTEMP, "/tmp/.org.chromium.Chromium.made");
    /* a browser that launched twice under one pid and start time: the
     * later record is its profile */
    dir(OTHER_BROWSER, 333, CR_DIR_USER_DATA_DIR, "/tmp/first");
    dir(OTHER_BROWSER, 333, CR_DIR_USER_DATA_DIR, "/tmp/second");

    /* per row: what its text line and its JSON object must hold (a NULL
     * text: no "profile=" at all) */
    char browser_text[600], browser_json[600];
    snprintf(browser_text, sizeof browser_text, "  profile=%s", profile);
    snprintf(browser_json, sizeof browser_json, "\"profile_dir\":\"%s\"", profile);
    const struct {
        pid_t pid;
        const char *text, *json;
    } want[] = {
        {BROWSER, browser_text, browser_json},
        {RENDERER, NULL, "\"profile_dir\":\"\""},
        {OTHER_BROWSER, "  profile=/tmp/second", "\"profile_dir\":\"/tmp/second\""},
    };
    for (int json = 0; json <= 1; json++) {
        char *out = NULL;
        ls(json, &out);
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            char *part = part_of(out, want[i].pid, json);
            const char *need = json ? want[i].json : want[i].text;
            if (need)
                cr_expect(strstr(part, need), "pid %d: no %s in: %s", (int)want[i].pid, need, part);
            else
                cr_expect_null(strstr(part, "profile="), "pid %d shows a profile: %s", (int)want[i].pid, part);
            free(part);
        }
        free(out);
    }
}
