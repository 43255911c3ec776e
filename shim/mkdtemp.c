/* mkdtemp(): Chrome's singleton directory and chromedriver's temporary
 * profile (/tmp/org.chromium.Chromium.*) are made this way.  Only
 * browser-stack processes are recorded: the bot's own temp dirs are not
 * ours to delete. */
#include <stdlib.h>

#include "registry.h"
#include "shim.h"

__attribute__((visibility("default"))) char *mkdtemp(char *template)
{
    char *dir = SHIM_REAL(mkdtemp)(template);
    if (dir && role_is_browser_stack(shim_role()))
        shim_record_dir(dir, CR_DIR_MKDTEMP);
    return dir;
}
