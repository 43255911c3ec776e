#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safestr.h"

#define RMTREE_MAX_DEPTH 128

struct walk {
    uint64_t mnt_id; /* never leave the top directory's mount */
    int failures;
    char *why;
    size_t why_len;
};

static int stat_at(int dirfd, const char *name, struct statx *sx)
{
    return statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                 STATX_TYPE | STATX_UID | STATX_INO | STATX_MNT_ID, sx);
}

static void note_failure(struct walk *w, const char *what, const char *name, int err)
{
    if (w->failures++ == 0 && w->why)
        snprintf(w->why, w->why_len, "%s %s: %s", what, name, err ? strerror(err) : "left in place");
}

/* Removes everything inside the directory open as `fd`; closes fd. */
static void remove_contents(int fd, struct walk *w, int depth)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        note_failure(w, "cannot read", "directory", errno);
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        struct statx sx;
        if (stat_at(fd, name, &sx) < 0) {
            if (errno != ENOENT)
                note_failure(w, "cannot stat", name, errno);
            continue;
        }
        if (S_ISDIR(sx.stx_mode)) {
            if (sx.stx_mnt_id != w->mnt_id) {
                note_failure(w, "mount point not crossed:", name, 0);
                continue;
            }
            if (depth >= RMTREE_MAX_DEPTH) {
                note_failure(w, "too deep:", name, 0);
                continue;
            }
            int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            struct stat sb;
            if (sub < 0 || fstat(sub, &sb) < 0 || sb.st_ino != sx.stx_ino) {
                /* swapped between stat and open: leave it */
                note_failure(w, "changed while removing:", name, 0);
                if (sub >= 0)
                    close(sub);
                continue;
            }
            remove_contents(sub, w, depth + 1);
            if (unlinkat(fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                note_failure(w, "cannot remove", name, errno);
        } else if (unlinkat(fd, name, 0) < 0 && errno != ENOENT) {
            note_failure(w, "cannot remove", name, errno);
        }
    }
    closedir(d);
}

static int open_parent(const char *path, char *name, size_t name_len)
{
    char parent[4096];
    if (cr_strlcpy(parent, path, sizeof parent) >= sizeof parent)
        return -1;
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (!slash || slash[1] == '\0')
        return -1;
    if (cr_strlcpy(name, slash + 1, name_len) >= name_len)
        return -1;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -1;
    if (slash == parent)
        slash[1] = '\0';
    else
        *slash = '\0';
    return open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int rmtree_identity(const char *path, uint64_t *dev, uint64_t *ino, uid_t *owner)
{
    struct stat sb;
    if (lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return -1;
    *dev = (uint64_t)sb.st_dev;
    *ino = (uint64_t)sb.st_ino;
    *owner = sb.st_uid;
    return 0;
}

enum rmtree_result rmtree_checked(const char *path, int identity, uint64_t dev, uint64_t ino,
                                  uid_t owner, char *why, size_t why_len)
{
    char name[256];
    if (why && why_len)
        why[0] = '\0';
    int pfd = open_parent(path, name, sizeof name);
    if (pfd < 0) {
        if (errno == ENOENT)
            return RMTREE_ABSENT;
        snprintf(why, why_len, "cannot open its parent directory");
        return RMTREE_FAILED;
    }
    struct stat sb;
    enum rmtree_result rc = RMTREE_REMOVED;
    if (fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        rc = errno == ENOENT ? RMTREE_ABSENT : RMTREE_FAILED;
        if (rc == RMTREE_FAILED)
            snprintf(why, why_len, "cannot stat: %s", strerror(errno));
    } else if (!S_ISDIR(sb.st_mode)) {
        snprintf(why, why_len, "%s", S_ISLNK(sb.st_mode) ? "now a symlink" : "no longer a directory");
        rc = RMTREE_MISMATCH;
    } else if (identity && ((uint64_t)sb.st_dev != dev || (uint64_t)sb.st_ino != ino)) {
        snprintf(why, why_len, "a different directory now (inode changed)");
        rc = RMTREE_MISMATCH;
    } else if (sb.st_uid != owner) {
        snprintf(why, why_len, "owned by uid %u, not %u", (unsigned)sb.st_uid, (unsigned)owner);
        rc = RMTREE_MISMATCH;
    }
    if (rc != RMTREE_REMOVED) {
        close(pfd);
        return rc;
    }
    int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct statx sx;
    if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &sx) < 0 ||
        sx.stx_ino != sb.st_ino) {
        snprintf(why, why_len, "changed while opening it");
        if (fd >= 0)
            close(fd);
        close(pfd);
        return RMTREE_MISMATCH;
    }
    struct walk w = {.mnt_id = sx.stx_mnt_id, .why = why, .why_len = why_len};
    remove_contents(fd, &w, 0);
    if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        note_failure(&w, "cannot remove", name, errno);
    close(pfd);
    return w.failures ? RMTREE_FAILED : RMTREE_REMOVED;
}
