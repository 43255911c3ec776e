/* mkdtemp(): Chrome's singleton directory and chromedriver's temporary
 * profile (/tmp/org.chromium.Chromium.*) are made this way, and so (Node's
 * fs.mkdtemp calls it) are the profiles and artifact directories Puppeteer
 * and Playwright make in the bot for its browser.  Recorded: what a
 * browser-stack process makes, and what any process makes under one of
 * those names (lib/tempname.h); the bot's other temp dirs are not. */
#include <stdlib.h>

#include "registry.h"
#include "shim.h"
#include "tempname.h"

__attribute__((visibility("default"))) char *mkdtemp(char *template)
{
    char *dir = SHIM_REAL(mkdtemp)(template);
    if (dir && (role_is_browser_stack(shim_role()) || temp_name_known(dir)))
        shim_record_dir(dir, CR_DIR_MKDTEMP);
    return dir;
}
