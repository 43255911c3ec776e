/* "LD_PRELOAD=/abs/path/libchromereaper.so", built by the constructor and
 * read-only afterwards (vfork children read it).
 *
 * In a small buffer: the library's zero-initialised data then ends on the
 * page its relocations already write, and the loader maps no page of
 * zeros after it (an mmap, a mapping and a page fault in every program
 * that loads the library: 5 us of every exec here).  A longer path, which
 * no installation has, goes in a mapping of its own. */
#include <string.h>
#include <sys/mman.h>

#include "safestr.h"
#include "shim.h"

static char entry_inline[384];
char *shim_preload_entry = entry_inline;

int shim_preload_entry_set(const char *path)
{
    size_t len = sizeof "LD_PRELOAD=" - 1 + strlen(path) + 1;
    char *entry = entry_inline;
    if (len > sizeof entry_inline) {
        entry = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (entry == MAP_FAILED)
            return -1;
    }
    cr_strlcpy(entry, "LD_PRELOAD=", len);
    cr_strlcat(entry, path, len);
    shim_preload_entry = entry;
    return 0;
}
