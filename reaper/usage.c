#include "usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "procfs.h"
#include "rmtree.h"
#include "role.h"
#include "safestr.h"

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

/* Records the temp-directory entry that `path` lies in (or is). */
static void note_path(struct usage *u, const char *path)
{
    if (path[0] != '/')
        return;
    for (size_t r = 0; r < u->nroots; r++) {
        size_t n = strlen(u->roots[r]);
        if (strncmp(path, u->roots[r], n) != 0 || path[n] != '/' || !path[n + 1])
            continue;
        const char *name = path + n + 1, *slash = strchr(name, '/');
        size_t len = n + 1 + (slash ? (size_t)(slash - name) : strlen(name));
        /* " (deleted)" may follow a name: keep what the kernel wrote before it */
        char key[4096];
        if (len >= sizeof key)
            return;
        memcpy(key, path, len);
        key[len] = '\0';
        char *deleted = strstr(key + n, " (deleted)");
        if (deleted && !deleted[10])
            *deleted = '\0';
        struct used_entry *e;
        HASH_FIND_STR(u->used, key, e);
        if (!e) {
            e = calloc(1, sizeof *e);
            if (!e)
                abort();
            e->path = xstrdup(key);
            HASH_ADD_KEYPTR(hh, u->used, e->path, strlen(e->path), e);
        }
    }
}

static struct socket_holders *socket_get(struct usage *u, uint64_t ino)
{
    struct socket_holders *s;
    HASH_FIND(hh, u->sockets, &ino, sizeof ino, s);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            abort();
        s->ino = ino;
        HASH_ADD(hh, u->sockets, ino, sizeof s->ino, s);
    }
    return s;
}

static void note_socket(struct usage *u, uint64_t ino, pid_t pid)
{
    struct socket_holders *s = socket_get(u, ino);
    for (size_t i = 0; i < s->n; i++)
        if (s->pids[i] == pid)
            return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 2;
        pid_t *p = realloc(s->pids, s->cap * sizeof *p);
        if (!p)
            abort();
        s->pids = p;
    }
    s->pids[s->n++] = pid;
}

/* A link of /proc/<pid>/ (cwd, root, fd/N): a socket or a path. */
static void note_link(struct usage *u, pid_t pid, int dirfd, const char *name)
{
    char target[4096];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    unsigned long long ino;
    if (sscanf(target, "socket:[%llu]", &ino) == 1)
        note_socket(u, ino, pid);
    else
        note_path(u, target);
}

static void scan_links(struct usage *u, pid_t pid)
{
    char path[64];
    if (proc_path(path, sizeof path, pid, "") < 0)
        return;
    DIR *p = opendir(path);
    if (!p)
        return;
    note_link(u, pid, dirfd(p), "cwd");
    note_link(u, pid, dirfd(p), "root");
    int fds = openat(dirfd(p), "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fds >= 0 ? fdopendir(fds) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            note_link(u, pid, dirfd(d), de->d_name);
    if (d)
        closedir(d);
    else if (fds >= 0)
        close(fds);
    closedir(p);
}

static void scan_maps(struct usage *u, pid_t pid)
{
    char path[64];
    if (proc_path(path, sizeof path, pid, "maps") < 0)
        return;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[4352];
    while (fgets(line, sizeof line, f)) {
        char *slash = strchr(line, '/');
        if (!slash)
            continue;
        slash[strcspn(slash, "\n")] = '\0';
        note_path(u, slash);
    }
    fclose(f);
}

/* Directories a command line names: a browser's profile, a crash database. */
static void scan_cmdline(struct usage *u, pid_t pid)
{
    char buf[16384];
    size_t len;
    if (proc_file_read(pid, "cmdline", buf, sizeof buf, &len) < 0)
        return;
    const char *udd = role_user_data_dir_cmdline(buf, len);
    if (udd)
        note_path(u, udd);
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
        const char *db = cr_env_value(buf + i, "--database");
        if (db)
            note_path(u, db);
    }
}

/* Bound unix sockets (Chrome's SingletonSocket) that a live process holds. */
static void scan_unix_paths(struct usage *u)
{
    FILE *f = fopen("/proc/net/unix", "re");
    if (!f)
        return;
    char line[4352];
    while (fgets(line, sizeof line, f)) {
        unsigned long long ino;
        int off = 0;
        /* Num RefCount Protocol Flags Type St Inode Path */
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %llu %n", &ino, &off) != 1 || !off)
            continue;
        char *path = line + off;
        path[strcspn(path, "\n")] = '\0';
        struct socket_holders *s;
        uint64_t key = ino;
        HASH_FIND(hh, u->sockets, &key, sizeof key, s);
        if (s && s->n && path[0] == '/')
            note_path(u, path);
    }
    fclose(f);
}

/* Each unix socket's peer, from the kernel (NETLINK_SOCK_DIAG). */
static int scan_peers(struct usage *u)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -1;
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req req;
    } msg = {
        .nlh = {.nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .req = {.sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_show = UDIAG_SHOW_PEER},
    };
    if (send(fd, &msg, sizeof msg, 0) != (ssize_t)sizeof msg) {
        close(fd);
        return -1;
    }
    static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
    int ok = -1;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        int done = 0, left = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                ok = 0;
                done = 1;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
                break;
            }
            struct unix_diag_msg *m = NLMSG_DATA(h);
            int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type != UNIX_DIAG_PEER || RTA_PAYLOAD(a) < sizeof(uint32_t))
                    continue;
                uint64_t ino = m->udiag_ino;
                struct socket_holders *s;
                HASH_FIND(hh, u->sockets, &ino, sizeof ino, s);
                if (s)
                    s->peer = *(uint32_t *)RTA_DATA(a);
            }
        }
        if (done)
            break;
    }
    close(fd);
    return ok;
}

void usage_scan(struct usage *u, char *const *roots, size_t nroots, int (*pick)(pid_t, void *),
                void *ctx)
{
    memset(u, 0, sizeof *u);
    u->roots = calloc(nroots ? nroots : 1, sizeof *u->roots);
    if (!u->roots)
        abort();
    for (size_t i = 0; i < nroots; i++)
        u->roots[u->nroots++] = xstrdup(roots[i]);
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        uint64_t pid;
        if (cr_parse_u64(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX ||
            (pick && !pick((pid_t)pid, ctx)))
            continue;
        scan_links(u, (pid_t)pid);
        scan_maps(u, (pid_t)pid);
        scan_cmdline(u, (pid_t)pid);
    }
    if (d)
        closedir(d);
    scan_unix_paths(u);
    u->have_peers = scan_peers(u) == 0;
}

void usage_free(struct usage *u)
{
    struct used_entry *e, *etmp;
    HASH_ITER(hh, u->used, e, etmp) {
        HASH_DEL(u->used, e);
        free(e->path);
        free(e);
    }
    struct socket_holders *s, *stmp;
    HASH_ITER(hh, u->sockets, s, stmp) {
        HASH_DEL(u->sockets, s);
        free(s->pids);
        free(s);
    }
    for (size_t i = 0; i < u->nroots; i++)
        free(u->roots[i]);
    free(u->roots);
    memset(u, 0, sizeof *u);
}

int usage_in_use(const struct usage *u, const char *path)
{
    struct used_entry *e;
    HASH_FIND_STR(u->used, path, e);
    return e != NULL;
}

int usage_socket_peers(const struct usage *u, pid_t pid, pid_t *out, size_t max)
{
    if (!u->have_peers)
        return -1;
    size_t n = 0;
    struct socket_holders *s, *tmp;
    HASH_ITER(hh, u->sockets, s, tmp) {
        int held = 0;
        for (size_t i = 0; i < s->n && !held; i++)
            held = s->pids[i] == pid;
        if (!held || !s->peer)
            continue;
        struct socket_holders *peer;
        uint64_t key = s->peer;
        HASH_FIND(hh, u->sockets, &key, sizeof key, peer);
        for (size_t i = 0; peer && i < peer->n; i++)
            if (peer->pids[i] != pid && n < max)
                out[n++] = peer->pids[i];
    }
    return (int)n;
}
