#include "dirseen.h"

#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "rmtree.h"
#include "role.h"
#include "safestr.h"

void dirseen_observe(struct dirseen *ds, pid_t pid, const char *cookie)
{
    char buf[8192], exe[4096];
    size_t len;
    if (proc_exe_read(pid, exe, sizeof exe) < 0 || proc_file_read(pid, "cmdline", buf, sizeof buf, &len) < 0 ||
        role_classify_cmdline(exe, buf, len) != CR_ROLE_BROWSER || proc_environ_has(pid, cookie) != 1)
        return;
    dirseen_add(ds, role_user_data_dir_cmdline(buf, len));
}

void dirseen_add(struct dirseen *ds, const char *udd)
{
    struct rmtree_stat st;
    if (!udd || udd[0] != '/' || rmtree_stat(udd, &st) < 0)
        return;
    for (size_t i = 0; i < ds->n; i++)
        if (ds->v[i].dev == st.dev && ds->v[i].ino == st.ino && strcmp(ds->v[i].path, udd) == 0)
            return;
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? ds->cap * 2 : 8;
        struct seen_dir *v = realloc(ds->v, ds->cap * sizeof *v);
        if (!v)
            abort();
        ds->v = v;
    }
    struct seen_dir *d = &ds->v[ds->n++];
    d->dev = st.dev;
    d->ino = st.ino;
    cr_strlcpy(d->path, udd, sizeof d->path);
}

int dirseen_has(const struct dirseen *ds, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; ds && i < ds->n; i++)
        if (ds->v[i].dev == dev && ds->v[i].ino == ino)
            return 1;
    return 0;
}

const struct seen_dir *dirseen_at(const struct dirseen *ds, const char *path)
{
    for (size_t i = 0; ds && i < ds->n; i++)
        if (strcmp(ds->v[i].path, path) == 0)
            return &ds->v[i];
    return NULL;
}

void dirseen_free(struct dirseen *ds)
{
    free(ds->v);
    memset(ds, 0, sizeof *ds);
}
