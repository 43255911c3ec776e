#include "pidns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"
#include "safestr.h"

/* the kernel nests PID namespaces 32 deep at most */
#define NEST_MAX 32

enum pidns_verdict pidns_judge(uint64_t registry_ns, uint64_t own_ns, int own_is_initial,
                               int members_found)
{
    if (registry_ns && registry_ns == own_ns)
        return PIDNS_OWN;
    if (!registry_ns || !own_ns || members_found < 0)
        return PIDNS_UNKNOWN;
    if (members_found)
        return PIDNS_ALIVE;
    /* elsewhere a namespace outside our view may hold it */
    return own_is_initial ? PIDNS_GONE : PIDNS_UNKNOWN;
}

/* 1 if the namespace of /proc/<pid>/ns/pid is `ns` or nested below it, 0 if
 * not, -1 if it cannot be read.  NS_GET_PARENT walks up (Linux 4.9). */
static int in_namespace(pid_t pid, uint64_t ns)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && (errno == ENOENT || errno == ESRCH))
        return 0; /* exited meanwhile */
    if (fd < 0) {
        /* not ours to inspect (more capabilities than we have): NSpid, which
         * anyone may read, still says whether it lives in our namespace */
        int nested = proc_in_nested_pidns(pid);
        return nested == 0 ? 0 : -1;
    }
    int found = 0;
    for (int level = 0; fd >= 0 && level < NEST_MAX && !found; level++) {
        struct stat st;
        if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == ns)
            found = 1;
        int parent = ioctl(fd, NS_GET_PARENT);
        close(fd);
        fd = parent; /* -1 (EPERM) above the initial namespace */
    }
    if (fd >= 0)
        close(fd);
    return found;
}

int pidns_has_members(uint64_t ns)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int result = 0;
    struct dirent *de;
    while (result != 1 && (de = readdir(d)) != NULL) {
        uint64_t pid;
        if (cr_parse_u64(de->d_name, &pid) < 0)
            continue;
        int in = in_namespace((pid_t)pid, ns);
        if (in != 0)
            result = in;
    }
    closedir(d);
    return result;
}

enum pidns_verdict pidns_verdict_of(uint64_t registry_ns)
{
    uint64_t own = registry_own_pidns();
    if (registry_ns && registry_ns == own)
        return PIDNS_OWN;
    return pidns_judge(registry_ns, own, own == PIDNS_INITIAL_INO, pidns_has_members(registry_ns));
}
