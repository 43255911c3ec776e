#include "pidlist.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int pid_cmp(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

void pidlist_take(struct pidlist *l)
{
    memset(l, 0, sizeof *l);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        if (l->n == cap) {
            cap = cap ? cap * 2 : 512;
            pid_t *v = realloc(l->v, cap * sizeof *v);
            if (!v)
                abort();
            l->v = v;
        }
        l->v[l->n++] = (pid_t)pid;
    }
    closedir(d);
    qsort(l->v, l->n, sizeof *l->v, pid_cmp);
    l->complete = 1;
}

int pidlist_may_hold(const struct pidlist *l, pid_t pid)
{
    return !l->complete || bsearch(&pid, l->v, l->n, sizeof *l->v, pid_cmp) != NULL;
}

void pidlist_free(struct pidlist *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}
