/* lib/role.c: classifying processes of the browser stack by their real
 * executable and command line.  The tables describe processes whose
 * executable is what their argv[0] names (expect_argv, expect_cmdline);
 * role_exe checks that argv[0] itself never decides. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "role.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CMDLINE(lit) (lit), (sizeof(lit) - 1) /* a literal's bytes, embedded NULs included */

static void expect_argv(const char *const *argv, enum cr_role want)
{
    enum cr_role got = role_classify(argv[0], argv);
    cr_expect_eq(got, want, "{%s, %s, ...}: got %s, want %s", argv[0] ? argv[0] : "(null)",
                 argv[0] && argv[1] ? argv[1] : "(null)", role_name(got), role_name(want));
}

/* The executable: the command line's first word. */
static const char *first_word(const char *buf, size_t len, char *exe, size_t cap)
{
    size_t n = 0;
    while (n < len && n + 1 < cap && buf[n] && buf[n] != ' ')
        n++;
    memcpy(exe, buf, n);
    exe[n] = '\0';
    return exe;
}

static void expect_cmdline(const char *buf, size_t len, enum cr_role want, const char *what)
{
    char exe[256];
    enum cr_role got = role_classify_cmdline(first_word(buf, len, exe, sizeof exe), buf, len);
    cr_expect_eq(got, want, "%s: got %s, want %s", what, role_name(got), role_name(want));
}

Test(role_argv, driver)
{
    expect_argv(ARGV("/usr/bin/chromedriver", "--port=4444"), CR_ROLE_DRIVER);
    expect_argv(ARGV("chromedriver"), CR_ROLE_DRIVER);
    expect_argv(ARGV("/home/bot/.cache/selenium/chromedriver/linux64/131.0/chromedriver",
                     "--port=36045", "--log-level=INFO"),
                CR_ROLE_DRIVER);
    /* a driver's --type-like argument does not make it a browser helper */
    expect_argv(ARGV("/usr/bin/chromedriver", "--type=renderer"), CR_ROLE_DRIVER);
}

Test(role_argv, browser)
{
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--headless", "--user-data-dir=/tmp/x"),
                CR_ROLE_BROWSER);
    expect_argv(ARGV("/usr/lib/chromium/chromium"), CR_ROLE_BROWSER);
    expect_argv(ARGV("/opt/google/chrome/chrome", "--no-sandbox", "--remote-debugging-port=0",
                     "about:blank"),
                CR_ROLE_BROWSER);
    expect_argv(ARGV("google-chrome-stable", "--headless=new"), CR_ROLE_BROWSER);
    expect_argv(ARGV("/usr/bin/chromium-browser", "--disable-gpu"), CR_ROLE_BROWSER);
    expect_argv(ARGV("/root/.cache/ms-playwright/chromium_headless_shell-1148/chrome-linux/"
                     "headless_shell",
                     "--headless"),
                CR_ROLE_BROWSER);
    expect_argv(ARGV("chrome-headless-shell", "--remote-debugging-pipe"), CR_ROLE_BROWSER);
    /* an argument that merely mentions a type is not --type= */
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--types=renderer", "--type"),
                CR_ROLE_BROWSER);
}

Test(role_argv, launcher_script_counts_as_what_it_runs)
{
    expect_argv(ARGV("/bin/sh", "/usr/bin/chromium", "--headless"), CR_ROLE_BROWSER);
    expect_argv(ARGV("/bin/bash", "/usr/bin/chromium", "--headless", "--user-data-dir=/tmp/p"),
                CR_ROLE_BROWSER);
    expect_argv(ARGV("dash", "/usr/bin/google-chrome"), CR_ROLE_BROWSER);
    expect_argv(ARGV("/bin/sh", "/usr/bin/chromedriver", "--port=9515"), CR_ROLE_DRIVER);
    /* the launcher's own helpers are not the browser */
    expect_argv(ARGV("/bin/sh", "/usr/bin/some-script", "chromium"), CR_ROLE_OTHER);
    expect_argv(ARGV("/bin/sh", "-c", "/usr/bin/chromium --headless"), CR_ROLE_OTHER);
    expect_argv(ARGV("/bin/sh"), CR_ROLE_OTHER);
}

Test(role_argv, other)
{
    expect_argv(ARGV("uname", "-m"), CR_ROLE_OTHER);
    expect_argv(ARGV("/usr/bin/python3", "bot.py"), CR_ROLE_OTHER);
    expect_argv(ARGV("/bin/grep", "-q", "chromium"), CR_ROLE_OTHER);
    expect_argv(ARGV("/usr/bin/readlink", "-f", "/usr/bin/chromium"), CR_ROLE_OTHER);
    /* a --type= on a non-browser command line means nothing */
    expect_argv(ARGV("/usr/bin/python3", "--type=renderer"), CR_ROLE_OTHER);
    /* names that only look similar */
    expect_argv(ARGV("/usr/bin/chromium-wrapper.py"), CR_ROLE_OTHER);
    expect_argv(ARGV("/usr/bin/mychrome"), CR_ROLE_OTHER);
    expect_argv(ARGV("/usr/lib/chromium/"), CR_ROLE_OTHER);
}

Test(role_argv, children_by_type)
{
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--type=zygote", "--no-zygote-sandbox"),
                CR_ROLE_ZYGOTE);
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--type=zygote"), CR_ROLE_ZYGOTE);
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--type=renderer", "--crashpad-handler-pid=12",
                     "--enable-crash-reporter=,", "--lang=en-US", "--num-raster-threads=4"),
                CR_ROLE_RENDERER);
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--headless", "--type=gpu-process",
                     "--use-gl=angle"),
                CR_ROLE_GPU);
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--type=utility",
                     "--utility-sub-type=network.mojom.NetworkService", "--lang=en-US"),
                CR_ROLE_UTILITY);
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--type=utility",
                     "--utility-sub-type=storage.mojom.StorageService"),
                CR_ROLE_UTILITY);
    /* Chrome re-executes itself through /proc/self/exe: its executable is
     * still chromium */
    cr_expect_eq(role_classify("/usr/lib/chromium/chromium", ARGV("/proc/self/exe", "--type=utility")),
                 CR_ROLE_UTILITY);
    cr_expect_eq(role_classify("/usr/lib/chromium/chromium", ARGV("/proc/self/exe", "--type=renderer")),
                 CR_ROLE_RENDERER);
    /* helper types without a role of their own are utilities */
    expect_argv(ARGV("/opt/google/chrome/chrome", "--type=broker"), CR_ROLE_UTILITY);
    expect_argv(ARGV("/opt/google/chrome/chrome", "--type=ppapi"), CR_ROLE_UTILITY);
    expect_argv(ARGV("/opt/google/chrome/chrome", "--type=crashpad-handler"), CR_ROLE_CRASHPAD);
    /* the first --type wins */
    expect_argv(ARGV("/usr/lib/chromium/chromium", "--type=gpu-process", "--type=renderer"),
                CR_ROLE_GPU);
}

Test(role_argv, crashpad)
{
    expect_argv(ARGV("/usr/lib/chromium/chrome_crashpad_handler", "--monitor-self",
                     "--monitor-self-annotation=ptype=crashpad-handler",
                     "--database=/tmp/.org.chromium.Chromium.abc/Crash Reports",
                     "--annotation=channel=", "--annotation=lsb-release=Debian GNU/Linux 12",
                     "--initial-client-fd=4", "--shared-client-connection"),
                CR_ROLE_CRASHPAD);
    expect_argv(ARGV("/opt/google/chrome/chrome_crashpad_handler", "--no-periodic-tasks"),
                CR_ROLE_CRASHPAD);
    expect_argv(ARGV("crashpad_handler"), CR_ROLE_CRASHPAD);
}

Test(role_argv, unknown)
{
    cr_expect_eq(role_classify("/usr/lib/chromium/chromium", NULL), CR_ROLE_UNKNOWN);
    const char *const empty[] = {NULL};
    cr_expect_eq(role_classify("/usr/lib/chromium/chromium", empty), CR_ROLE_UNKNOWN);
    /* an executable we may not read (another uid, a non-dumpable process) */
    cr_expect_eq(role_classify("", ARGV("/usr/lib/chromium/chromium")), CR_ROLE_UNKNOWN);
    cr_expect_eq(role_classify(NULL, ARGV("/usr/lib/chromium/chromium")), CR_ROLE_UNKNOWN);
}

/* argv[0] is whatever a program likes: the executable decides. */
Test(role_exe, argv0_never_decides)
{
    /* the Go/Rust/runc re-exec of a helper of the bot */
    cr_expect_eq(role_classify("/usr/local/bin/helper", ARGV("/proc/self/exe", "init")), CR_ROLE_OTHER);
    cr_expect_eq(role_classify("/usr/local/bin/helper", ARGV("exe")), CR_ROLE_OTHER);
    cr_expect_eq(role_classify("/usr/bin/runc", ARGV("/proc/self/exe", "init")), CR_ROLE_OTHER);
    /* a program naming itself after the browser stack */
    cr_expect_eq(role_classify("/usr/bin/python3.11", ARGV("chromium", "--type=renderer")), CR_ROLE_OTHER);
    cr_expect_eq(role_classify("/usr/bin/sleep", ARGV("chromedriver", "--port=1")), CR_ROLE_OTHER);
    cr_expect_eq(role_classify("/usr/bin/sleep", ARGV("chrome_crashpad_handler")), CR_ROLE_OTHER);
    /* and the browser stack under any argv[0] */
    cr_expect_eq(role_classify("/usr/lib/chromium/chromium", ARGV("exe", "--type=gpu-process")), CR_ROLE_GPU);
    cr_expect_eq(role_classify("/usr/bin/chromedriver", ARGV("driver")), CR_ROLE_DRIVER);
    /* a file replaced since it was started (a package upgrade) */
    cr_expect_eq(role_classify("/usr/lib/chromium/chromium (deleted)", ARGV("/usr/lib/chromium/chromium")),
                 CR_ROLE_BROWSER);
    cr_expect_eq(role_classify("/opt/google/chrome/chrome_crashpad_handler (deleted)", ARGV("x")),
                 CR_ROLE_CRASHPAD);
    /* a shell is what its script is, never what its argv[0] says */
    cr_expect_eq(role_classify("/usr/bin/dash", ARGV("chromium", "/usr/bin/chromium")), CR_ROLE_BROWSER);
    cr_expect_eq(role_classify("/usr/bin/dash", ARGV("chromium", "/tmp/job.sh")), CR_ROLE_OTHER);
}

Test(role_cmdline, proc_form)
{
    /* /proc/<pid>/cmdline: every argument followed by a NUL */
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--type=zygote\0--no-zygote-sandbox\0"),
                   CR_ROLE_ZYGOTE, "zygote");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--type=renderer\0--foo\0"),
                   CR_ROLE_RENDERER, "renderer");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--type=gpu-process\0"), CR_ROLE_GPU,
                   "gpu");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--type=utility\0"
                           "--utility-sub-type=network.mojom.NetworkService\0"),
                   CR_ROLE_UTILITY, "utility");
    expect_cmdline(CMDLINE("/usr/bin/chromedriver\0--port=4444\0"), CR_ROLE_DRIVER, "driver");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--headless\0--user-data-dir=/tmp/x\0"),
                   CR_ROLE_BROWSER, "browser");
    expect_cmdline(CMDLINE("/bin/sh\0/usr/bin/chromium\0--headless\0"), CR_ROLE_BROWSER,
                   "launcher");
    expect_cmdline(CMDLINE("uname\0-m\0"), CR_ROLE_OTHER, "uname");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chrome_crashpad_handler\0--monitor-self\0"),
                   CR_ROLE_CRASHPAD, "crashpad");
    /* single argument */
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0"), CR_ROLE_BROWSER, "argv0 only");
    /* no trailing NUL (a truncated read) */
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--type=renderer"), CR_ROLE_RENDERER,
                   "no trailing NUL");
    /* arguments with spaces are not split when the arguments are NUL-separated */
    expect_cmdline(CMDLINE("/usr/bin/chromedriver\0--log-path=/tmp/a --type=renderer\0"),
                   CR_ROLE_DRIVER, "space inside an argument");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--user-data-dir=/tmp/a --type=gpu-process\0"),
                   CR_ROLE_BROWSER, "space inside a browser argument");
}

Test(role_cmdline, chrome_rewritten_form)
{
    /* Chrome's children rewrite their cmdline as one space-joined string,
     * followed by NUL padding up to the old length */
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium --type=renderer --foo\0\0\0\0"),
                   CR_ROLE_RENDERER, "rewritten, NUL padded");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium --type=renderer --foo\0"),
                   CR_ROLE_RENDERER, "rewritten, one NUL");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium --type=renderer --foo"), CR_ROLE_RENDERER,
                   "rewritten, no NUL");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium --type=zygote --no-zygote-sandbox\0"),
                   CR_ROLE_ZYGOTE, "rewritten zygote");
    expect_cmdline(CMDLINE("/opt/google/chrome/chrome --type=gpu-process --use-gl=angle\0\0\0\0"
                           "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
                   CR_ROLE_GPU, "rewritten gpu, long padding");
    expect_cmdline(CMDLINE("/usr/lib/chromium/chromium  --type=utility   "
                           "--utility-sub-type=network.mojom.NetworkService\0\0"),
                   CR_ROLE_UTILITY, "rewritten, runs of spaces");

    /* a realistic padded buffer, built like the kernel would return it */
    char buf[600];
    static const char title[] = "/usr/lib/chromium/chromium --type=renderer "
                                "--crashpad-handler-pid=4242 --enable-crash-reporter=, "
                                "--change-stack-guard-on-fork=enable --lang=en-US";
    memset(buf, 0, sizeof buf);
    memcpy(buf, title, sizeof title - 1);
    expect_cmdline(buf, sizeof buf, CR_ROLE_RENDERER, "realistic padded renderer");
}

Test(role_cmdline, unknown)
{
    expect_cmdline("", 0, CR_ROLE_UNKNOWN, "empty");
    expect_cmdline(CMDLINE("\0"), CR_ROLE_UNKNOWN, "one NUL");
    expect_cmdline(CMDLINE("\0\0\0\0"), CR_ROLE_UNKNOWN, "only NULs");
    expect_cmdline(CMDLINE("   "), CR_ROLE_UNKNOWN, "only spaces");
    expect_cmdline(CMDLINE("  \0"), CR_ROLE_UNKNOWN, "spaces and NUL");
}

Test(role_cmdline, huge)
{
    /* longer than the classifier copies, with many arguments: still safe
     * (ASan checks) and still classified by its head */
    size_t len = 0, cap = 64 * 1024;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    static const char head[] = "/usr/lib/chromium/chromium\0--type=gpu-process\0";
    memcpy(buf, head, sizeof head - 1);
    len = sizeof head - 1;
    while (len + 4 <= cap) {
        memcpy(buf + len, "-x\0", 3);
        len += 3;
    }
    enum cr_role got = role_classify_cmdline("/usr/lib/chromium/chromium", buf, len);
    cr_expect_eq(got, CR_ROLE_GPU, "got %s", role_name(got));

    /* one enormous space-joined argument */
    memset(buf, 'a', cap);
    memcpy(buf, "chromium --type=renderer ", 25);
    got = role_classify_cmdline("/usr/lib/chromium/chromium", buf, cap);
    cr_expect_eq(got, CR_ROLE_RENDERER, "got %s", role_name(got));
    free(buf);
}

Test(role, fork_child)
{
    cr_expect_eq(role_of_fork_child(CR_ROLE_ZYGOTE), CR_ROLE_RENDERER);
    cr_expect_eq(role_of_fork_child(CR_ROLE_BROWSER), CR_ROLE_BROWSER);
    static const enum cr_role same[] = {CR_ROLE_UNKNOWN, CR_ROLE_OTHER,    CR_ROLE_DRIVER,
                                        CR_ROLE_BROWSER, CR_ROLE_RENDERER, CR_ROLE_GPU,
                                        CR_ROLE_UTILITY, CR_ROLE_CRASHPAD};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        cr_expect_eq(role_of_fork_child(same[i]), same[i], "%s", role_name(same[i]));
}

Test(role, is_browser_stack)
{
    cr_expect_not(role_is_browser_stack(CR_ROLE_UNKNOWN));
    cr_expect_not(role_is_browser_stack(CR_ROLE_OTHER));
    cr_expect(role_is_browser_stack(CR_ROLE_DRIVER));
    cr_expect(role_is_browser_stack(CR_ROLE_BROWSER));
    cr_expect(role_is_browser_stack(CR_ROLE_ZYGOTE));
    cr_expect(role_is_browser_stack(CR_ROLE_RENDERER));
    cr_expect(role_is_browser_stack(CR_ROLE_GPU));
    cr_expect(role_is_browser_stack(CR_ROLE_UTILITY));
    cr_expect(role_is_browser_stack(CR_ROLE_CRASHPAD));
    /* values from a hostile registry */
    cr_expect_not(role_is_browser_stack((enum cr_role)(CR_ROLE_MAX + 1)));
    cr_expect_not(role_is_browser_stack((enum cr_role)1000));
}

Test(role, names)
{
    cr_expect_str_eq(role_name(CR_ROLE_UNKNOWN), "unknown");
    cr_expect_str_eq(role_name(CR_ROLE_OTHER), "other");
    cr_expect_str_eq(role_name(CR_ROLE_DRIVER), "driver");
    cr_expect_str_eq(role_name(CR_ROLE_BROWSER), "browser");
    cr_expect_str_eq(role_name(CR_ROLE_ZYGOTE), "zygote");
    cr_expect_str_eq(role_name(CR_ROLE_RENDERER), "renderer");
    cr_expect_str_eq(role_name(CR_ROLE_GPU), "gpu");
    cr_expect_str_eq(role_name(CR_ROLE_UTILITY), "utility");
    cr_expect_str_eq(role_name(CR_ROLE_CRASHPAD), "crashpad");
    cr_expect_str_eq(role_name((enum cr_role)(CR_ROLE_MAX + 1)), "invalid");
    cr_expect_str_eq(role_name((enum cr_role)0x7fffffff), "invalid");
    cr_expect_str_eq(role_name((enum cr_role)-1), "invalid");
}

Test(role_user_data_dir, argv)
{
    const char *const *a;

    a = ARGV("/usr/lib/chromium/chromium", "--headless", "--user-data-dir=/tmp/x");
    cr_expect_eq(role_user_data_dir_argv(a), a[2] + 16, "points into the argument");
    cr_expect_str_eq(role_user_data_dir_argv(a), "/tmp/x");

    a = ARGV("chromium", "--user-data-dir=/tmp/first", "--headless", "--user-data-dir=/tmp/last");
    cr_expect_str_eq(role_user_data_dir_argv(a), "/tmp/last", "the last one wins");

    a = ARGV("chromium", "--user-data-dir=/tmp/with space/p");
    cr_expect_str_eq(role_user_data_dir_argv(a), "/tmp/with space/p");

    cr_expect_null(role_user_data_dir_argv(ARGV("chromium", "--headless")), "missing");
    cr_expect_null(role_user_data_dir_argv(ARGV("chromium", "--user-data-dir=")), "empty value");
    cr_expect_null(role_user_data_dir_argv(ARGV("chromium", "--user-data-dir", "/tmp/x")),
                   "not the = form");
    cr_expect_null(role_user_data_dir_argv(ARGV("chromium", "--user-data-directory=/tmp/x")));
    cr_expect_null(role_user_data_dir_argv(ARGV("--user-data-dir=/tmp/x")),
                   "argv[0] is the program, not an argument");
    cr_expect_null(role_user_data_dir_argv(ARGV("chromium")));
    cr_expect_null(role_user_data_dir_argv(NULL));
    const char *const empty[] = {NULL};
    cr_expect_null(role_user_data_dir_argv(empty));
}

Test(role_user_data_dir, cmdline)
{
    static const char one[] = "/usr/lib/chromium/chromium\0--headless\0--user-data-dir=/tmp/x\0";
    const char *v = role_user_data_dir_cmdline(CMDLINE(one));
    cr_assert_not_null(v);
    cr_expect_str_eq(v, "/tmp/x");
    cr_expect(v > one && v < one + sizeof one, "points into the buffer");

    static const char two[] =
        "chromium\0--user-data-dir=/tmp/first\0--headless\0--user-data-dir=/tmp/last\0--x\0";
    v = role_user_data_dir_cmdline(CMDLINE(two));
    cr_assert_not_null(v);
    cr_expect_str_eq(v, "/tmp/last", "the last one wins");

    cr_expect_null(role_user_data_dir_cmdline(CMDLINE("chromium\0--headless\0")), "missing");
    cr_expect_null(role_user_data_dir_cmdline(CMDLINE("chromium\0--user-data-dir=\0")),
                   "empty value");
    cr_expect_null(role_user_data_dir_cmdline(CMDLINE("chromium\0--user-data-dir\0/tmp/x\0")));
    cr_expect_null(role_user_data_dir_cmdline("", 0));
    cr_expect_null(role_user_data_dir_cmdline(CMDLINE("\0\0\0")));

    /* the value is only returned when it is terminated inside the buffer */
    static const char cut[] = "chromium\0--user-data-dir=/tmp/cut";
    v = role_user_data_dir_cmdline(CMDLINE(cut));
    if (v)
        cr_expect_not_null(memchr(v, '\0', (size_t)(cut + sizeof cut - 1 - v)),
                           "the value runs past the buffer");
}

/* The utility's service, from --utility-sub-type= (a mojom interface name):
 * what `ls` shows as "utility:network" for a process role_classify calls a
 * utility. */
static void expect_subtype_argv(const char *const *argv, int want_rc, const char *want)
{
    char out[32] = "junk";
    int rc = role_utility_subtype_argv(argv, out, sizeof out);
    cr_expect_eq(rc, want_rc, "{%s, %s, ...}: rc %d", argv[0], argv[1] ? argv[1] : "(null)", rc);
    cr_expect_str_eq(out, want, "{%s, %s, ...}", argv[0], argv[1] ? argv[1] : "(null)");
}

Test(role_subtype, argv)
{
    expect_subtype_argv(ARGV("/usr/lib/chromium/chromium", "--type=utility",
                             "--utility-sub-type=network.mojom.NetworkService", "--lang=en-US"),
                        1, "network");
    expect_subtype_argv(ARGV("/usr/lib/chromium/chromium", "--type=utility",
                             "--utility-sub-type=storage.mojom.StorageService"),
                        1, "storage");
    expect_subtype_argv(ARGV("/opt/google/chrome/chrome", "--type=utility",
                             "--utility-sub-type=audio.mojom.AudioService"),
                        1, "audio");
    expect_subtype_argv(ARGV("/proc/self/exe", "--type=utility",
                             "--utility-sub-type=video_capture.mojom.VideoCaptureService"),
                        1, "video_capture");
    expect_subtype_argv(ARGV("/usr/lib/chromium/chromium", "--type=utility",
                             "--utility-sub-type=data_decoder.mojom.DataDecoderService"),
                        1, "data_decoder");
    /* no dot: the whole value */
    expect_subtype_argv(ARGV("chromium", "--type=utility", "--utility-sub-type=printing"), 1, "printing");
    /* the first one counts, as for --type */
    expect_subtype_argv(ARGV("chromium", "--type=utility", "--utility-sub-type=network.mojom.N",
                             "--utility-sub-type=audio.mojom.A"),
                        1, "network");
    /* only characters that are safe to print anywhere */
    expect_subtype_argv(ARGV("chromium", "--type=utility", "--utility-sub-type=net\"wo\\rk$.mojom.X"),
                        1, "network");
    /* no sub-type, or an empty one (whether the process is a utility at
     * all is role_classify's: its callers ask that first) */
    expect_subtype_argv(ARGV("chromium", "--type=utility"), 0, "");
    expect_subtype_argv(ARGV("chromium", "--type=utility", "--utility-sub-type="), 0, "");
    expect_subtype_argv(ARGV("chromium", "--type=utility", "--utility-sub-type=.mojom.X"), 0, "");
    expect_subtype_argv(ARGV("chromium", "--type=utility", "--utility-sub-type=$$$"), 0, "");
}

Test(role_subtype, small_buffers)
{
    const char *const *a = ARGV("chromium", "--type=utility",
                                "--utility-sub-type=network.mojom.NetworkService");
    char out[4] = "xyz";
    cr_expect_eq(role_utility_subtype_argv(a, out, sizeof out), 1);
    cr_expect_str_eq(out, "net", "truncated, terminated");
    char one[1] = {'x'};
    cr_expect_eq(role_utility_subtype_argv(a, one, 1), 0);
    cr_expect_eq(one[0], '\0');
    char untouched = 'x';
    cr_expect_eq(role_utility_subtype_argv(a, &untouched, 0), 0);
    cr_expect_eq(untouched, 'x', "no room: nothing written");
}

Test(role_subtype, cmdline)
{
    char out[32];
    cr_expect_eq(role_utility_subtype_cmdline(
                     CMDLINE("/usr/lib/chromium/chromium\0--type=utility\0"
                             "--utility-sub-type=network.mojom.NetworkService\0--lang=en-US\0"),
                     out, sizeof out),
                 1);
    cr_expect_str_eq(out, "network");
    /* Chrome's rewritten form: one space-joined string, NUL padded */
    cr_expect_eq(role_utility_subtype_cmdline(
                     CMDLINE("/usr/lib/chromium/chromium --type=utility "
                             "--utility-sub-type=storage.mojom.StorageService --lang=en-US\0\0\0"),
                     out, sizeof out),
                 1);
    cr_expect_str_eq(out, "storage");
    cr_expect_eq(role_utility_subtype_cmdline(CMDLINE("/usr/lib/chromium/chromium\0--type=gpu-process\0"),
                                              out, sizeof out),
                 0);
    cr_expect_str_eq(out, "");
    strcpy(out, "junk");
    cr_expect_eq(role_utility_subtype_cmdline("", 0, out, sizeof out), 0);
    cr_expect_str_eq(out, "");
}
