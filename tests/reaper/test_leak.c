/* doctor's decisions, each a pure function over facts (reaper/leak.c),
 * its view of executables (reaper/browserexe.c) and its human units
 * (reaper/human.c), as tables. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../reaper/browserexe.h"
#include "../../reaper/human.h"
#include "../../reaper/leak.h"

/* B: an automated browser, orphaned, old, unclaimed: a leak; each row
 * changes what it names. */
#define B .role = CR_ROLE_BROWSER, .orphaned = 1, .automated = 1, .old_enough = 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init" /* a row overrides B: that is the point */

Test(leak, process_verdicts)
{
    static const struct {
        const char *what;
        struct leak_facts f;
        enum leak_verdict want;
    } rows[] = {
        {"the leak itself", {B}, LEAK_YES},
        {"pid 1, a kernel thread, a zombie, the doctor", {B, .not_a_target = 1}, LEAK_NOT_A_TARGET},
        {"another uid's", {B, .other_uid = 1}, LEAK_OTHER_UID},
        {"not a browser's executable", {B, .role = CR_ROLE_OTHER}, LEAK_NOT_A_BROWSER},
        {"executable unreadable", {B, .role = CR_ROLE_UNKNOWN}, LEAK_NOT_A_BROWSER},
        {"a live session's record or cookie", {B, .claimed = 1}, LEAK_CLAIMED},
        {"a systemd service's (a unit running chromium itself)", {B, .in_service = 1}, LEAK_IN_SERVICE},
        {"its parent is alive", {B, .orphaned = 0}, LEAK_NOT_ORPHANED},
        {"nobody automates it (a person's browser)", {B, .automated = 0}, LEAK_INTERACTIVE},
        {"too young", {B, .old_enough = 0}, LEAK_TOO_YOUNG},
        {"a driver needs no automation switch", {B, .role = CR_ROLE_DRIVER, .automated = 0}, LEAK_YES},
        {"an orphaned renderer", {B, .role = CR_ROLE_RENDERER, .automated = 0}, LEAK_YES},
        {"a crash handler with a live client", {B, .role = CR_ROLE_CRASHPAD, .client_alive = 1}, LEAK_HAS_CLIENT},
        {"a crash handler without one", {B, .role = CR_ROLE_CRASHPAD}, LEAK_YES},
        {"claimed and of another uid: uid first", {B, .claimed = 1, .other_uid = 1}, LEAK_OTHER_UID},
        {"claimed and young: claimed", {B, .claimed = 1, .old_enough = 0}, LEAK_CLAIMED},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        enum leak_verdict got = leak_process(&rows[i].f);
        cr_expect_eq(got, rows[i].want, "%s: %s, want %s", rows[i].what, leak_verdict_name(got),
                     leak_verdict_name(rows[i].want));
    }
}
#pragma GCC diagnostic pop
#undef B

Test(leak, leftover_kinds_by_name)
{
    static const struct {
        const char *name, *kind;
    } rows[] = {
        {"org.chromium.Chromium.scoped_dir.Ab12Cd", "chromedriver profile"},
        {"org.chromium.Chromium.X1y2Z3", "Chromium temp directory"},
        {".org.chromium.Chromium.X1y2Z3", "Chromium temp directory"},
        {".com.google.Chrome.abcdef", "Chrome temp directory"},
        {"com.google.Chrome.scoped_dir.abcdef", "chromedriver profile"},
        {"puppeteer_dev_chrome_profile-XXXXXX", "Puppeteer profile"},
        {"playwright_chromiumdev_profile-abc", "Playwright profile"},
        {"playwright-artifacts-abc", "Playwright artifacts"},
        {"org.chromium.Chromium.", NULL}, /* the random part is missing */
        {"org.chromium.Chromium", NULL},
        {"my-org.chromium.Chromium.x", NULL},
        {"chromium", NULL},
        {"systemd-private-abc", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const char *got = leftover_kind(rows[i].name);
        if (rows[i].kind)
            cr_expect(got && strcmp(got, rows[i].kind) == 0, "%s: %s", rows[i].name, got ? got : "none");
        else
            cr_expect_null(got, "%s: %s", rows[i].name, got);
    }
}

Test(leak, leftover_verdicts)
{
    static const struct {
        struct leftover_facts f;
        enum leftover_verdict want;
    } rows[] = {
        {{.kind = "k", .is_dir = 1, .old_enough = 1}, LEFTOVER_YES},
        {{.kind = NULL, .is_dir = 1, .old_enough = 1}, LEFTOVER_UNKNOWN_NAME},
        {{.kind = "k", .is_dir = 0, .old_enough = 1}, LEFTOVER_NOT_A_DIR}, /* a symlink, a file */
        {{.kind = "k", .is_dir = 1, .other_uid = 1, .old_enough = 1}, LEFTOVER_OTHER_UID},
        {{.kind = "k", .is_dir = 1, .in_use = 1, .old_enough = 1}, LEFTOVER_IN_USE},
        {{.kind = "k", .is_dir = 1, .old_enough = 0}, LEFTOVER_TOO_YOUNG},
        {{.kind = "k", .is_dir = 1, .other_uid = 1, .in_use = 1}, LEFTOVER_OTHER_UID},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        enum leftover_verdict got = leftover_dir(&rows[i].f);
        cr_expect_eq(got, rows[i].want, "row %zu: %s, want %s", i, leftover_verdict_name(got),
                     leftover_verdict_name(rows[i].want));
    }
}

Test(leak, systemd_services_by_cgroup)
{
    static const struct {
        const char *cgroup;
        int want;
    } rows[] = {
        {"0::/system.slice/headless-chrome.service\n", 1},
        {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/chrome-bot.service\n", 1},
        {"0::/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope\n", 0},
        {"0::/user.slice/user-1000.slice/session-3.scope\n", 0},
        {"0::/system.slice/docker-0123abcd.scope\n", 0},
        {"0::/\n", 0},
        {"0::/system.slice/foo.service/payload\n", 0}, /* a delegated sub-cgroup: not the unit's own */
        {"12:name=systemd:/system.slice/chrome.service\n11:memory:/\n0::/\n", 1}, /* hybrid */
        {"9:name=systemd:/\n4:memory:/x.service\n0::/\n", 0},
        {"0::/my.service.d\n", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        cr_expect_eq(leak_cgroup_is_service(rows[i].cgroup), rows[i].want, "%s", rows[i].cgroup);
}

Test(leak, automation_from_the_command_line)
{
    static const struct {
        const char *cmdline;
        size_t len;
        int want;
    } rows[] = {
#define C(s, want) {s, sizeof s - 1, want}
        C("chromium\0--enable-automation\0", 1),
        C("chromium\0--remote-debugging-port=0\0", 1),
        C("chromium\0--remote-debugging-pipe\0", 1),
        C("chromium\0--headless\0", 1),
        C("chromium\0--headless=new\0", 1),
        C("chromium\0--test-type=webdriver\0", 1),
        C("chromium\0https://example.org\0", 0),
        C("chromium\0--headlessx\0", 0),
        C("chromium\0--no-remote-debugging-port=1\0", 0),
        C("chromium\0", 0),
#undef C
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        cr_expect_eq(leak_cmdline_automated(rows[i].cmdline, rows[i].len), rows[i].want, "row %zu", i);
}

Test(leak, roles_by_real_executable)
{
    static const struct {
        const char *exe, *cmdline;
        size_t len;
        enum cr_role want;
    } rows[] = {
#define R(exe, c, want) {exe, c, sizeof c - 1, want}
        R("/usr/lib/chromium/chromium", "chromium\0--headless\0", CR_ROLE_BROWSER),
        R("/usr/lib/chromium/chromium", "/usr/lib/chromium/chromium --type=renderer --lang=en", CR_ROLE_RENDERER),
        R("/usr/lib/chromium/chromium", "chromium\0--type=zygote\0", CR_ROLE_ZYGOTE),
        R("/usr/lib/chromium/chromium", "chromium\0--type=gpu-process\0", CR_ROLE_GPU),
        R("/usr/lib/chromium/chromium", "chromium\0--type=utility\0", CR_ROLE_UTILITY),
        R("/opt/google/chrome/chrome", "chrome\0--type=crashpad-handler\0", CR_ROLE_CRASHPAD),
        R("/usr/lib/chromium/chromium (deleted)", "chromium\0", CR_ROLE_BROWSER),
        R("/home/u/.cache/ms-playwright/chromium-1/chrome-linux/chrome", "x\0", CR_ROLE_BROWSER),
        R("/home/u/.cache/puppeteer/chrome-headless-shell/linux/chrome-headless-shell", "x\0", CR_ROLE_BROWSER),
        R("/usr/bin/chromedriver", "chromedriver\0--port=0\0", CR_ROLE_DRIVER),
        R("/usr/lib/chromium/chrome_crashpad_handler", "x\0", CR_ROLE_CRASHPAD),
        /* argv[0] is the program's to choose: only the executable counts */
        R("/usr/bin/python3.11", "chromium\0--type=renderer\0", CR_ROLE_OTHER),
        R("/usr/bin/bash", "/usr/bin/chromium\0", CR_ROLE_OTHER),
        R("/tmp/chromium-lookalike", "chromium\0", CR_ROLE_OTHER),
#undef R
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        enum cr_role got = browserexe_role(rows[i].exe, rows[i].cmdline, rows[i].len);
        cr_expect_eq(got, rows[i].want, "%s: %s, want %s", rows[i].exe, role_name(got), role_name(rows[i].want));
    }
}

Test(leak, human_units)
{
    static const struct {
        uint64_t bytes;
        const char *want;
    } sizes[] = {
        {0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
        {220 * 1024 * 1024ull + 300 * 1024, "220.3 MiB"}, {3ull << 30, "3.0 GiB"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        human_bytes(sizes[i].bytes, buf, sizeof buf);
        cr_expect_str_eq(buf, sizes[i].want);
    }
    static const struct {
        double sec;
        const char *want;
    } ages[] = {
        {0, "0 s ago"}, {59, "59 s ago"}, {60, "1 min ago"}, {3599, "60 min ago"},
        {3 * 3600 + 100, "3 h ago"}, {2 * 86400, "2 d ago"}, {-5, "0 s ago"},
    };
    for (size_t i = 0; i < sizeof ages / sizeof *ages; i++) {
        human_ago(ages[i].sec, buf, sizeof buf);
        cr_expect_str_eq(buf, ages[i].want, "%g s", ages[i].sec);
    }
    static const struct {
        const char *text;
        double want;
    } durations[] = {
        {"90", 90}, {"90s", 90}, {"30m", 1800}, {"30min", 1800}, {"1h", 3600}, {"1.5h", 5400},
        {"2d", 172800}, {"0", 0}, {"", -1}, {"h", -1}, {"-1h", -1}, {"1w", -1}, {"nan", -1},
        {"inf", -1}, {"100000d", -1}, {"1h ", -1},
    };
    for (size_t i = 0; i < sizeof durations / sizeof *durations; i++)
        cr_expect_eq(human_parse_duration(durations[i].text), durations[i].want, "'%s'", durations[i].text);
}
