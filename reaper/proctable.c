#include "proctable.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "procfs.h"
#include "safestr.h"

static void add_child(struct proc_node *parent, pid_t child)
{
    if (parent->nchildren == parent->children_cap) {
        size_t cap = parent->children_cap ? parent->children_cap * 2 : 4;
        pid_t *c = realloc(parent->children, cap * sizeof *c);
        if (!c)
            abort();
        parent->children = c;
        parent->children_cap = cap;
    }
    parent->children[parent->nchildren++] = child;
}

int proctable_snapshot(struct proctable *t)
{
    t->by_pid = NULL;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t pid;
        if (cr_parse_u64(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX)
            continue;
        struct proc_stat st;
        uid_t uid;
        /* a process that exits mid-scan is simply not in the snapshot */
        if (proc_stat_read((pid_t)pid, &st) < 0 || proc_uid_read((pid_t)pid, &uid) < 0)
            continue;
        struct proc_node *n = calloc(1, sizeof *n);
        if (!n)
            abort();
        n->pid = (pid_t)pid;
        n->ppid = st.ppid;
        n->start_time = st.start_time;
        n->state = st.state;
        n->kthread = (st.flags & PROC_PF_KTHREAD) != 0;
        n->uid = uid;
        HASH_ADD_INT(t->by_pid, pid, n);
    }
    closedir(d);
    struct proc_node *n, *tmp;
    HASH_ITER(hh, t->by_pid, n, tmp) {
        struct proc_node *parent = proctable_find(t, n->ppid);
        if (parent)
            add_child(parent, n->pid);
    }
    return 0;
}

void proctable_free(struct proctable *t)
{
    struct proc_node *n, *tmp;
    HASH_ITER(hh, t->by_pid, n, tmp) {
        HASH_DEL(t->by_pid, n);
        free(n->children);
        free(n);
    }
}

struct proc_node *proctable_find(const struct proctable *t, pid_t pid)
{
    struct proc_node *n = NULL;
    HASH_FIND_INT(t->by_pid, &pid, n);
    return n;
}

int proctable_is_self_or_ancestor(const struct proctable *t, pid_t pid)
{
    pid_t p = getpid();
    for (int hops = 0; p > 0 && hops < 4096; hops++) {
        if (p == pid)
            return 1;
        struct proc_node *n = proctable_find(t, p);
        if (!n)
            break;
        p = n->ppid;
    }
    return 0;
}
