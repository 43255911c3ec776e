/* lib/safestr.c: the async-signal-safe string helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "safestr.h"

Test(safestr, strlcpy_fits)
{
    char buf[8];
    memset(buf, '#', sizeof buf);
    cr_expect_eq(cr_strlcpy(buf, "abc", sizeof buf), 3u);
    cr_expect_str_eq(buf, "abc");
    cr_expect_eq(buf[4], '#', "nothing written past the NUL");

    cr_expect_eq(cr_strlcpy(buf, "", sizeof buf), 0u);
    cr_expect_str_eq(buf, "");

    /* exactly fits: 7 characters and the NUL */
    cr_expect_eq(cr_strlcpy(buf, "1234567", sizeof buf), 7u);
    cr_expect_str_eq(buf, "1234567");
}

Test(safestr, strlcpy_truncates)
{
    char buf[8];
    memset(buf, '#', sizeof buf);
    size_t r = cr_strlcpy(buf, "12345678", sizeof buf);
    cr_expect_eq(r, 8u, "returns strlen(src)");
    cr_expect_geq(r, sizeof buf, "truncation shows as result >= len");
    cr_expect_str_eq(buf, "1234567");

    r = cr_strlcpy(buf, "a much longer string than the buffer", 4);
    cr_expect_eq(r, strlen("a much longer string than the buffer"));
    cr_expect_str_eq(buf, "a m");
    cr_expect_eq(buf[4], '5', "bytes past len untouched");

    cr_expect_eq(cr_strlcpy(buf, "xyz", 1), 3u);
    cr_expect_str_eq(buf, "", "len 1 leaves just the NUL");

    memset(buf, '#', sizeof buf);
    cr_expect_eq(cr_strlcpy(buf, "xyz", 0), 3u);
    cr_expect_eq(buf[0], '#', "len 0 writes nothing");
}

Test(safestr, strlcat)
{
    char buf[10] = "ab";
    cr_expect_eq(cr_strlcat(buf, "cd", sizeof buf), 4u);
    cr_expect_str_eq(buf, "abcd");
    cr_expect_eq(cr_strlcat(buf, "", sizeof buf), 4u);
    cr_expect_str_eq(buf, "abcd");
    cr_expect_eq(cr_strlcat(buf, "efghi", sizeof buf), 9u, "exactly fills");
    cr_expect_str_eq(buf, "abcdefghi");
    cr_expect_eq(cr_strlcat(buf, "j", sizeof buf), 10u, "full: reports the wanted length");
    cr_expect_str_eq(buf, "abcdefghi");

    char t[6] = "ab";
    size_t r = cr_strlcat(t, "cdefgh", sizeof t);
    cr_expect_eq(r, 8u);
    cr_expect_geq(r, sizeof t);
    cr_expect_str_eq(t, "abcde");

    char e[4] = "";
    cr_expect_eq(cr_strlcat(e, "xy", sizeof e), 2u);
    cr_expect_str_eq(e, "xy");

    /* dst not terminated within len: nothing is written */
    char u[4] = {'w', 'x', 'y', 'z'};
    cr_expect_eq(cr_strlcat(u, "abc", sizeof u), 4u + 3u);
    cr_expect_eq(memcmp(u, "wxyz", 4), 0);
    cr_expect_eq(cr_strlcat(u, "abc", 0), 3u);
    cr_expect_eq(memcmp(u, "wxyz", 4), 0);
    cr_expect_eq(cr_strlcat(u, "abc", 2), 2u + 3u, "len smaller than dst's string");
    cr_expect_eq(memcmp(u, "wxyz", 4), 0);
}

Test(safestr, utoa)
{
    char buf[32];
    cr_expect_eq(cr_utoa(0, buf, sizeof buf), 1u);
    cr_expect_str_eq(buf, "0");
    cr_expect_eq(cr_utoa(7, buf, sizeof buf), 1u);
    cr_expect_str_eq(buf, "7");
    cr_expect_eq(cr_utoa(10, buf, sizeof buf), 2u);
    cr_expect_str_eq(buf, "10");
    cr_expect_eq(cr_utoa(1234567890, buf, sizeof buf), 10u);
    cr_expect_str_eq(buf, "1234567890");
    cr_expect_eq(cr_utoa(4294967295u, buf, sizeof buf), 10u);
    cr_expect_str_eq(buf, "4294967295");
    cr_expect_eq(cr_utoa(UINT64_MAX, buf, sizeof buf), 20u);
    cr_expect_str_eq(buf, "18446744073709551615");
    cr_expect_eq(cr_utoa(10000000000000000000ull, buf, sizeof buf), 20u);
    cr_expect_str_eq(buf, "10000000000000000000");
}

Test(safestr, utoa_buffer_limits)
{
    char buf[21];
    cr_expect_eq(cr_utoa(UINT64_MAX, buf, 21), 20u, "20 digits + NUL fit in 21");
    cr_expect_str_eq(buf, "18446744073709551615");
    memset(buf, '#', sizeof buf);
    cr_expect_eq(cr_utoa(UINT64_MAX, buf, 20), 0u, "no room for the NUL");
    cr_expect_str_eq(buf, "", "left as \"\"");

    char two[2];
    cr_expect_eq(cr_utoa(9, two, 2), 1u);
    cr_expect_str_eq(two, "9");
    cr_expect_eq(cr_utoa(10, two, 2), 0u);
    cr_expect_str_eq(two, "");
    cr_expect_eq(cr_utoa(0, two, 1), 0u);
    cr_expect_str_eq(two, "");

    memset(two, '#', sizeof two);
    cr_expect_eq(cr_utoa(5, two, 0), 0u);
    cr_expect_eq(two[0], '#', "len 0 writes nothing");
}

Test(safestr, parse_u64)
{
    uint64_t v = 123;
    cr_expect_eq(cr_parse_u64("0", &v), 0);
    cr_expect_eq(v, 0u);
    cr_expect_eq(cr_parse_u64("42", &v), 0);
    cr_expect_eq(v, 42u);
    cr_expect_eq(cr_parse_u64("00017", &v), 0);
    cr_expect_eq(v, 17u);
    cr_expect_eq(cr_parse_u64("18446744073709551615", &v), 0);
    cr_expect_eq(v, UINT64_MAX);
    cr_expect_eq(cr_parse_u64("18446744073709551610", &v), 0);
    cr_expect_eq(v, UINT64_MAX - 5);
    cr_expect_eq(cr_parse_u64("000000000000000000000000000001", &v), 0, "leading zeros");
    cr_expect_eq(v, 1u);
}

Test(safestr, parse_u64_rejects)
{
    static const char *const bad[] = {
        "18446744073709551616", /* UINT64_MAX + 1 */
        "18446744073709551620", "99999999999999999999", "184467440737095516150",
        "100000000000000000000",
        "", "-1", "+1", " 1", "1 ", "1\n", "12a", "a12", "0x10", "1.5", "1e3", "\xd9\xa1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t v = 77;
        cr_expect_eq(cr_parse_u64(bad[i], &v), -1, "accepted \"%s\"", bad[i]);
        cr_expect_eq(v, 77u, "\"%s\": *out written on failure", bad[i]);
    }
    uint64_t v = 77;
    cr_expect_eq(cr_parse_u64(NULL, &v), -1);
    cr_expect_eq(v, 77u);
}

Test(safestr, env_value)
{
    static const char s[] = "CHROMEREAPER_SESSION=abc";
    const char *v = cr_env_value(s, "CHROMEREAPER_SESSION");
    cr_expect_eq(v, s + 21, "points into s");
    cr_expect_str_eq(cr_env_value("CHROMEREAPER_SESSION=", "CHROMEREAPER_SESSION"), "");
    cr_expect_str_eq(cr_env_value("--type=renderer", "--type"), "renderer");
    cr_expect_str_eq(cr_env_value("a=b=c", "a"), "b=c", "only the first '=' separates");
    cr_expect_str_eq(cr_env_value("=x", ""), "x", "empty name");

    cr_expect_null(cr_env_value("CHROMEREAPER_SESSIONX=abc", "CHROMEREAPER_SESSION"));
    cr_expect_null(cr_env_value("CHROMEREAPER_SESSION", "CHROMEREAPER_SESSION"), "no '='");
    cr_expect_null(cr_env_value("CHROMEREAPER_SESS=abc", "CHROMEREAPER_SESSION"), "shorter");
    cr_expect_null(cr_env_value("MY_CHROMEREAPER_SESSION=abc", "CHROMEREAPER_SESSION"));
    cr_expect_null(cr_env_value("--types=renderer", "--type"));
    cr_expect_null(cr_env_value("--TYPE=renderer", "--type"), "case matters");
    cr_expect_null(cr_env_value("", "--type"));
}

Test(safestr, basename)
{
    static const char p[] = "/usr/lib/chromium/chromium";
    cr_expect_eq(cr_basename(p), p + 18, "points into path");
    cr_expect_str_eq(cr_basename("/usr/bin/chromedriver"), "chromedriver");
    cr_expect_str_eq(cr_basename("chromium"), "chromium");
    cr_expect_str_eq(cr_basename("a/b"), "b");
    cr_expect_str_eq(cr_basename("./exe"), "exe");
    cr_expect_str_eq(cr_basename("/proc/self/exe"), "exe");
    cr_expect_str_eq(cr_basename("/usr/bin/"), "");
    cr_expect_str_eq(cr_basename("/"), "");
    cr_expect_str_eq(cr_basename(""), "");
    cr_expect_str_eq(cr_basename("//double//slash"), "slash");
}
