/* lib/tempname.c: the names automation libraries and Chrome give the temp
 * directories they make for a browser, by the last component only. */
#include <criterion/criterion.h>

#include "tempname.h"

Test(tempname, known_temp_names)
{
    const struct {
        const char *path;
        int known;
    } rows[] = {
        {"/tmp/.org.chromium.Chromium.aB3xYz", 1},
        {"/tmp/org.chromium.Chromium.scoped_dir.aB3xYz", 1},
        {"/tmp/.com.google.Chrome.Qw12Er", 1},
        {"/tmp/puppeteer_dev_chrome_profile-XyZ123", 1},
        {"/tmp/playwright_chromiumdev_profile-XyZ123", 1},
        {"/tmp/playwright-artifacts-XyZ123", 1},
        {"/tmp/org.chromium.Chromium.", 0}, /* the prefix alone */
        {"/tmp/tmpk2j3h4", 0},
        {"/tmp/bot-output-123", 0},
        {"/tmp/org.chromium.Chromium.x/thesis", 0}, /* only the last component counts */
        {"/tmp/xorg.chromium.Chromium.abc", 0},
        {"/tmp/..org.chromium.Chromium.abc", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        cr_expect_eq(temp_name_known(rows[i].path), rows[i].known, "%s", rows[i].path);
}
