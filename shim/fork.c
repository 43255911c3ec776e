/* fork(): the parent records the child.  Renderers are zygote forks that
 * never exec, so this is the only place they are seen.  Only the parent
 * does work, after the real fork returns: nothing runs in the child, and
 * nothing here takes a lock a multithreaded fork could leave held. */
#include <errno.h>
#include <unistd.h>

#include "registry.h"
#include "shim.h"

__attribute__((visibility("default"))) pid_t fork(void)
{
    pid_t pid = SHIM_REAL(fork)();
    if (pid > 0)
        shim_record_process(pid, CR_SEEN_FORK, NULL, NULL);
    return pid;
}
