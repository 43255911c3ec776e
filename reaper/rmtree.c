#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct walk {
    uid_t owner;     /* nothing of another uid is removed */
    uint64_t mnt_id; /* never leave the top directory's mount */
    dev_t dev;
    int fix_modes;   /* not root: give our own directories u+rwx */
    int left;        /* entries left in place, each for a reason */
    char first[200]; /* the first reason */
    char rel[4096];  /* where the walk is, below the top ("a/b/") */
};

static void say(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_len, const char *fmt, ...)
{
    if (!why || !why_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* Something stays: the first reason is kept, the rest counted. */
static void note(struct walk *w, const char *what, const char *name, int err)
{
    if (w->left++ == 0)
        say(w->first, sizeof w->first, "%s%s%s%s%s%s", what, (w->rel[0] || name[0]) ? " " : "",
            w->rel, name, err ? ": " : "", err ? strerror(err) : "");
}

static dev_t dev_of(const struct statx *sx)
{
    return makedev(sx->stx_dev_major, sx->stx_dev_minor);
}

/* lstat with the mount id; fails (never guesses) when the mount cannot be told. */
static int xstat(int dirfd, const char *name, int flags, struct statx *sx)
{
    if (statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
              STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO | STATX_MNT_ID, sx) < 0)
        return -1;
    if (!(sx->stx_mask & STATX_MNT_ID)) {
        /* kernels before 5.8: the mount id of a file handle */
        union {
            struct file_handle fh;
            char space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
        } h;
        int mnt;
        h.fh.handle_bytes = MAX_HANDLE_SZ;
        if (name_to_handle_at(dirfd, name, &h.fh, &mnt, flags & AT_EMPTY_PATH) < 0)
            return -1;
        sx->stx_mnt_id = (uint64_t)(unsigned)mnt;
    }
    return 0;
}

/* The next component of a path: "//" and a trailing "/" yield nothing. */
static int next_component(const char **p, const char **start, size_t *len)
{
    const char *s = *p;
    while (*s == '/')
        s++;
    if (!*s) {
        *p = s;
        return 0;
    }
    const char *e = s;
    while (*e && *e != '/')
        e++;
    *start = s;
    *len = (size_t)(e - s);
    *p = e;
    return 1;
}

static int is_dot(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

int rmtree_path_below(const char *path, const char *dir)
{
    if (!path || !dir || path[0] != '/' || dir[0] != '/')
        return 0;
    const char *p = path, *d = dir, *ps, *ds;
    size_t pn, dn;
    int depth = 0;
    while (next_component(&d, &ds, &dn)) {
        if (!next_component(&p, &ps, &pn) || is_dot(ds, dn) || is_dot(ps, pn) || pn != dn ||
            memcmp(ps, ds, pn) != 0)
            return 0;
        depth++;
    }
    if (depth == 0)
        return 0; /* below "/" is everything: never a temporary directory */
    int below = 0;
    while (next_component(&p, &ps, &pn)) {
        if (is_dot(ps, pn))
            return 0;
        below = 1;
    }
    return below;
}

/* Opens the parent of `path` (O_PATH), walking from "/" one component at a
 * time without following symlinks; the last component goes to `name`.
 * Returns RMTREE_REMOVED when *out holds the parent. */
static enum rmtree_result open_parent(const char *path, char *name, size_t name_len, int *out, char *why,
                                      size_t why_len)
{
    *out = -1;
    const char *p = path, *s;
    size_t n;
    if (!path || path[0] != '/') {
        say(why, why_len, "not an absolute path");
        return RMTREE_MISMATCH;
    }
    if (!next_component(&p, &s, &n)) {
        say(why, why_len, "not a removable path");
        return RMTREE_MISMATCH;
    }
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        say(why, why_len, "cannot open /: %s", strerror(errno));
        return RMTREE_FAILED;
    }
    for (;;) {
        if (is_dot(s, n) || n >= name_len) {
            say(why, why_len, "%s", is_dot(s, n) ? "the path has a \".\" or \"..\" component"
                                                 : "the path has a component too long");
            close(fd);
            return RMTREE_MISMATCH;
        }
        memcpy(name, s, n);
        name[n] = '\0';
        int upto = (int)(p - path);
        if (!next_component(&p, &s, &n))
            break;
        int next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int err = errno;
            struct stat sb;
            enum rmtree_result rc = RMTREE_MISMATCH;
            if (err == ENOENT) {
                rc = RMTREE_ABSENT;
            } else if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode)) {
                say(why, why_len, "the path goes through a symlink: %.*s", upto, path);
            } else if (err == ENOTDIR) {
                say(why, why_len, "the path goes through a non-directory: %.*s", upto, path);
            } else {
                say(why, why_len, "cannot open %.*s: %s", upto, path, strerror(err));
                rc = RMTREE_FAILED;
            }
            close(fd);
            return rc;
        }
        close(fd);
        fd = next;
    }
    *out = fd;
    return RMTREE_REMOVED;
}

/* Opens directory `name` for reading, without following a symlink, and only
 * if it is still exactly `expect` (inode, device, mount, owner).  Returns
 * the fd, -1 on an error (errno), -2 if it is not `expect` any more. */
static int open_dir(int dirfd, const char *name, const struct statx *expect, int fix_modes)
{
    int pfd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? -2 : -1;
    struct statx now;
    if (xstat(pfd, "", AT_EMPTY_PATH, &now) < 0) {
        int err = errno;
        close(pfd);
        errno = err;
        return -1;
    }
    if (!S_ISDIR(now.stx_mode) || now.stx_ino != expect->stx_ino || dev_of(&now) != dev_of(expect) ||
        now.stx_mnt_id != expect->stx_mnt_id || now.stx_uid != expect->stx_uid) {
        close(pfd);
        return -2;
    }
    if (fix_modes && now.stx_uid == geteuid() && (now.stx_mode & S_IRWXU) != S_IRWXU) {
        /* our own directory, about to go: u+rwx so that we can empty it.
         * Through the O_PATH fd: exactly the inode just checked. */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
        (void)chmod(proc, (now.stx_mode & 07777) | S_IRWXU);
    }
    int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = errno;
    close(pfd);
    errno = err;
    return fd;
}

/* Removes what can go inside the directory open as `fd`; closes fd. */
static void remove_contents(int fd, struct walk *w, int depth)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        note(w, "cannot read", w->rel[0] ? "" : ".", errno);
        close(fd);
        return;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                note(w, "cannot read", w->rel[0] ? "" : ".", errno);
            break;
        }
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        struct statx sx;
        if (xstat(fd, name, 0, &sx) < 0) {
            if (errno != ENOENT)
                note(w, "cannot stat", name, errno);
            continue;
        }
        if (sx.stx_mnt_id != w->mnt_id || dev_of(&sx) != w->dev) {
            note(w, "mount point not crossed:", name, 0);
            continue;
        }
        if (S_ISLNK(sx.stx_mode)) {
            /* a name only: removed, its target never looked at */
            if (unlinkat(fd, name, 0) < 0 && errno != ENOENT)
                note(w, "cannot remove", name, errno);
            continue;
        }
        if (sx.stx_uid != w->owner) {
            char what[64];
            say(what, sizeof what, "owned by uid %u, left:", (unsigned)sx.stx_uid);
            note(w, what, name, 0);
            continue;
        }
        if (!S_ISDIR(sx.stx_mode)) {
            if (unlinkat(fd, name, 0) < 0 && errno != ENOENT)
                note(w, "cannot remove", name, errno);
            continue;
        }
        if (depth + 1 >= RMTREE_MAX_DEPTH) {
            note(w, "too deep, not entered:", name, 0);
            continue;
        }
        int sub = open_dir(fd, name, &sx, w->fix_modes);
        if (sub < 0) {
            if (sub == -2)
                note(w, "changed while removing:", name, 0);
            else
                note(w, "cannot open", name, errno);
            continue;
        }
        size_t keep = strlen(w->rel);
        say(w->rel + keep, sizeof w->rel - keep, "%s/", name);
        int before = w->left;
        remove_contents(sub, w, depth + 1);
        w->rel[keep] = '\0';
        /* when something inside stayed, so does the directory: no new reason */
        if (w->left == before && unlinkat(fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            note(w, "cannot remove", name, errno);
    }
    closedir(d);
}

/* The checks on the recorded directory itself, as `name` in parent `pfd`. */
static enum rmtree_result inspect(int pfd, const char *name, int identity, uint64_t dev, uint64_t ino,
                                  uid_t owner, struct statx *sx, char *why, size_t why_len)
{
    if (xstat(pfd, name, 0, sx) < 0) {
        if (errno == ENOENT)
            return RMTREE_ABSENT;
        say(why, why_len, "cannot stat it: %s", strerror(errno));
        return RMTREE_FAILED;
    }
    if (S_ISLNK(sx->stx_mode)) {
        say(why, why_len, "now a symlink");
        return RMTREE_MISMATCH;
    }
    if (!S_ISDIR(sx->stx_mode)) {
        say(why, why_len, "no longer a directory");
        return RMTREE_MISMATCH;
    }
    if (identity && ((uint64_t)dev_of(sx) != dev || sx->stx_ino != ino)) {
        say(why, why_len, "a different directory now (inode changed)");
        return RMTREE_MISMATCH;
    }
    if (sx->stx_uid != owner) {
        say(why, why_len, "owned by uid %u, not %u", (unsigned)sx->stx_uid, (unsigned)owner);
        return RMTREE_MISMATCH;
    }
    struct statx psx;
    if (xstat(pfd, "", AT_EMPTY_PATH, &psx) < 0) {
        say(why, why_len, "cannot stat its parent: %s", strerror(errno));
        return RMTREE_FAILED;
    }
    if (psx.stx_mnt_id != sx->stx_mnt_id || dev_of(&psx) != dev_of(sx)) {
        say(why, why_len, "a mount point: not crossed");
        return RMTREE_MISMATCH;
    }
    if (sx->stx_mode & (S_ISVTX | S_IWOTH)) {
        say(why, why_len, "a shared directory (sticky or world-writable)");
        return RMTREE_MISMATCH;
    }
    return RMTREE_REMOVED;
}

static enum rmtree_result run(const char *path, int identity, uint64_t dev, uint64_t ino, uid_t owner,
                              int remove, char *why, size_t why_len)
{
    char name[NAME_MAX + 1];
    int pfd;
    if (why && why_len)
        why[0] = '\0';
    enum rmtree_result rc = open_parent(path, name, sizeof name, &pfd, why, why_len);
    if (rc != RMTREE_REMOVED)
        return rc;
    struct statx sx;
    rc = inspect(pfd, name, identity, dev, ino, owner, &sx, why, why_len);
    if (rc != RMTREE_REMOVED || !remove) {
        close(pfd);
        return rc;
    }
    struct walk w = {.owner = owner, .mnt_id = sx.stx_mnt_id, .dev = dev_of(&sx), .fix_modes = geteuid() != 0};
    int fd = open_dir(pfd, name, &sx, w.fix_modes);
    if (fd < 0) {
        if (fd == -2)
            say(why, why_len, "changed while opening it");
        else
            say(why, why_len, "cannot open it: %s", strerror(errno));
        close(pfd);
        return fd == -2 ? RMTREE_MISMATCH : RMTREE_FAILED;
    }
    remove_contents(fd, &w, 0);
    if (w.left == 0 && unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        note(&w, "cannot remove the directory itself", "", errno);
    close(pfd);
    if (w.left == 0)
        return RMTREE_REMOVED;
    if (w.left > 1)
        say(why, why_len, "%s (and %d more left)", w.first, w.left - 1);
    else
        say(why, why_len, "%s", w.first);
    return RMTREE_FAILED;
}

enum rmtree_result rmtree_checked(const char *path, int identity, uint64_t dev, uint64_t ino,
                                  uid_t owner, char *why, size_t why_len)
{
    return run(path, identity, dev, ino, owner, 1, why, why_len);
}

enum rmtree_result rmtree_check(const char *path, int identity, uint64_t dev, uint64_t ino,
                                uid_t owner, char *why, size_t why_len)
{
    return run(path, identity, dev, ino, owner, 0, why, why_len);
}

int rmtree_stat(const char *path, struct rmtree_stat *out)
{
    char name[NAME_MAX + 1];
    int pfd;
    memset(out, 0, sizeof *out);
    if (open_parent(path, name, sizeof name, &pfd, NULL, 0) != RMTREE_REMOVED)
        return -1;
    struct statx sx;
    int rc = statx(pfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                   STATX_TYPE | STATX_UID | STATX_INO | STATX_BTIME, &sx);
    close(pfd);
    if (rc < 0 || !S_ISDIR(sx.stx_mode))
        return -1;
    out->dev = (uint64_t)dev_of(&sx);
    out->ino = sx.stx_ino;
    out->owner = sx.stx_uid;
    out->have_birth = (sx.stx_mask & STATX_BTIME) != 0;
    out->birth_sec = sx.stx_btime.tv_sec;
    out->birth_nsec = sx.stx_btime.tv_nsec;
    return 0;
}
