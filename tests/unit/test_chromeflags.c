/* lib/chromeflags.c: which words of CHROMEREAPER_CHROME_FLAGS are switches,
 * and how they join a browser's argv (each once). */
#include <criterion/criterion.h>
#include <string.h>

#include "chromeflags.h"

static size_t split(const char *value, const char **words)
{
    static char buf[CR_CHROME_FLAGS_LEN];
    return chromeflags_split(value, buf, sizeof buf, words, CR_CHROME_FLAGS_MAX);
}

Test(chromeflags, split_keeps_only_switches)
{
    static const struct {
        const char *value;
        size_t n;
        const char *first, *last;
    } table[] = {
        {"--disable-dev-shm-usage --renderer-process-limit=2", 2, "--disable-dev-shm-usage",
         "--renderer-process-limit=2"},
        {"  \t--a\n\n--b=c  ", 2, "--a", "--b=c"},
        {"", 0, NULL, NULL},
        {"https://example.org --a", 1, "--a", "--a"},       /* no positional argument */
        {"-a --a", 1, "--a", "--a"},                         /* single dash: not a switch */
        {"--type=renderer --a", 1, "--a", "--a"},            /* never turns it into a helper */
        {"-- --= --a", 1, "--a", "--a"},
        {"---a --a", 1, "--a", "--a"},
        {"--a\x01 --b", 1, "--b", "--b"},                    /* control characters */
        {"--caf\xc3\xa9 --b", 1, "--b", "--b"},              /* printable ASCII only */
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        const char *words[CR_CHROME_FLAGS_MAX];
        size_t n = split(table[i].value, words);
        cr_expect_eq(n, table[i].n, "row %zu: %zu switches", i, n);
        if (n && n == table[i].n) {
            cr_expect_str_eq(words[0], table[i].first, "row %zu", i);
            cr_expect_str_eq(words[n - 1], table[i].last, "row %zu", i);
        }
    }
}

Test(chromeflags, split_is_bounded)
{
    char value[CR_CHROME_FLAGS_LEN + 10];
    memset(value, 'a', sizeof value - 1);
    value[0] = value[1] = '-';
    value[sizeof value - 1] = '\0';
    const char *words[CR_CHROME_FLAGS_MAX];
    cr_expect_eq(split(value, words), 0u, "a value longer than the buffer is not used at all");
    char many[CR_CHROME_FLAGS_MAX * 8 + 64] = "";
    for (int i = 0; i < CR_CHROME_FLAGS_MAX + 5; i++)
        strcat(many, "--x ");
    cr_expect_eq(split(many, words), (size_t)CR_CHROME_FLAGS_MAX);
    cr_expect_eq(split(NULL, words), 0u);
}

Test(chromeflags, append_adds_each_missing_switch_once)
{
    const char *flags[] = {"--disable-dev-shm-usage", "--renderer-process-limit=2"};
    char *argv[] = {"chromium", "--headless", "--disable-dev-shm-usage", NULL};
    char *out[8];
    cr_assert_eq(chromeflags_append(argv, flags, 2, out, 8), 1u);
    cr_expect_str_eq(out[0], "chromium");
    cr_expect_str_eq(out[2], "--disable-dev-shm-usage");
    cr_expect_str_eq(out[3], "--renderer-process-limit=2");
    cr_expect_null(out[4]);
    /* applied again (the /usr/bin/chromium script execs the real binary): nothing new */
    char *again[8];
    cr_expect_eq(chromeflags_append(out, flags, 2, again, 8), 0u);
    cr_expect_null(again[4]);
    /* argv[0] is not an argument: a program named like a flag still gets it */
    char *named[] = {"--disable-dev-shm-usage", NULL};
    cr_expect_eq(chromeflags_append(named, flags, 1, again, 8), 1u);
    /* no room: untouched */
    char *small[3];
    cr_expect_eq(chromeflags_append(argv, flags, 2, small, 3), 0u);
}

Test(chromeflags, has_matches_whole_arguments)
{
    const char cmd[] = "chromium\0--a=1\0--bb\0";
    cr_expect(chromeflags_has(cmd, sizeof cmd - 1, "--a=1"));
    cr_expect(chromeflags_has(cmd, sizeof cmd - 1, "--bb"));
    cr_expect_not(chromeflags_has(cmd, sizeof cmd - 1, "--b"));
    cr_expect_not(chromeflags_has(cmd, sizeof cmd - 1, "--a"));
    cr_expect_not(chromeflags_has(cmd, sizeof cmd - 1, "a=1"));
}
