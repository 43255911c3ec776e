/* Shared by the dirs* suites (tests/reaper/test_dirs*.c): a session whose
 * directory records the test writes itself, a private tree under /tmp to
 * build scenarios in (and a second one under /var/tmp, which is not a
 * temporary directory for the reaper), victims whose every byte must survive,
 * and reading one directory's row of the reap report.  Everything a test
 * makes (mounts first) is undone by dt_teardown, also after a failure. */
#ifndef CHROMEREAPER_TEST_DIRS_H
#define CHROMEREAPER_TEST_DIRS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "registry.h"
#include "safestr.h"
#include "support.h"

#define DT_MAX_MOUNTS 8

static char dt_session[64];
static struct cr_registry dt_reg;
static char dt_base[256];  /* /tmp/crtest-dirs-XXXXXX */
static char dt_other[256]; /* /var/tmp/crtest-dirs-XXXXXX, made on demand */
static char dt_mounts[DT_MAX_MOUNTS][512];
static int dt_nmounts;

static inline void dt_setup(void)
{
    dt_nmounts = 0;
    dt_other[0] = '\0';
    ts_session_create(dt_session, sizeof dt_session, &dt_reg);
    ts_tmpdir(dt_base, sizeof dt_base, "dirs");
    /* everything the tests make is made during the session */
    ts_after_birth_of(ts_registry_file((uint32_t)getuid(), dt_session), dt_base);
}

static inline void dt_teardown(void)
{
    /* mounts first, newest first: nothing below is removed through them */
    while (dt_nmounts > 0)
        umount2(dt_mounts[--dt_nmounts], MNT_DETACH);
    if (dt_reg.hdr)
        registry_close(&dt_reg);
    ts_session_remove(dt_session);
    ts_rm_rf(dt_base);
    if (dt_other[0])
        ts_rm_rf(dt_other);
}

/* printf into one of many rotating buffers: a test may keep what it got
 * for its whole length (it makes far fewer than DT_FMT_BUFS strings). */
#define DT_FMT_BUFS 256
static inline const char *dt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *dt_fmt(const char *fmt, ...)
{
    static char bufs[DT_FMT_BUFS][4200];
    static int next;
    char *b = bufs[next++ % DT_FMT_BUFS];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

/* dt_base "/" rel, and the same under /var/tmp (made on first use). */
static inline const char *dt_path(const char *rel)
{
    return dt_fmt("%s/%s", dt_base, rel);
}

static inline const char *dt_other_path(const char *rel)
{
    if (!dt_other[0]) {
        snprintf(dt_other, sizeof dt_other, "/var/tmp/crtest-dirs-XXXXXX");
        cr_assert_not_null(mkdtemp(dt_other), "mkdtemp under /var/tmp: %s", strerror(errno));
    }
    return dt_fmt("%s/%s", dt_other, rel);
}

static inline void dt_mkdir(const char *path, mode_t mode)
{
    cr_assert_eq(mkdir(path, mode), 0, "mkdir %s: %s", path, strerror(errno));
    cr_assert_eq(chmod(path, mode), 0); /* past the umask */
}

static inline void dt_write(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static inline void dt_symlink(const char *target, const char *path)
{
    cr_assert_eq(symlink(target, path), 0, "symlink %s -> %s: %s", path, target, strerror(errno));
}

static inline void dt_expect_file(const char *path, const char *text)
{
    char *got = ts_slurp(path);
    cr_assert_not_null(got, "%s is gone", path);
    cr_assert_str_eq(got, text, "%s changed", path);
    free(got);
}

static inline int dt_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* A directory whose contents must all survive: two files, a subdirectory. */
static inline void dt_victim(const char *dir)
{
    const char *p;
    dt_mkdir(dir, 0755);
    p = dt_fmt("%s/precious.txt", dir);
    dt_write(p, "precious\n");
    p = dt_fmt("%s/sub", dir);
    dt_mkdir(p, 0755);
    p = dt_fmt("%s/sub/nested.txt", dir);
    dt_write(p, "nested\n");
}

static inline void dt_expect_victim(const char *dir)
{
    const char *p;
    struct stat sb;
    cr_assert_eq(lstat(dir, &sb), 0, "victim %s is gone", dir);
    cr_assert(S_ISDIR(sb.st_mode), "victim %s is no longer a directory", dir);
    p = dt_fmt("%s/precious.txt", dir);
    dt_expect_file(p, "precious\n");
    p = dt_fmt("%s/sub/nested.txt", dir);
    dt_expect_file(p, "nested\n");
}

/* Some of what Chrome leaves in a profile. */
static inline void dt_profile(const char *dir)
{
    const char *p;
    dt_mkdir(dir, 0700);
    p = dt_fmt("%s/Local State", dir);
    dt_write(p, "{}\n");
    p = dt_fmt("%s/Default", dir);
    dt_mkdir(p, 0700);
    p = dt_fmt("%s/Default/Preferences", dir);
    dt_write(p, "{\"profile\":{}}\n");
}

/* A directory record in `reg`, as the shim writes one: identity (dev,
 * inode) unless absent at launch; the creator is this process. */
static inline void dt_record_in(struct cr_registry *reg, const char *path, unsigned origin, unsigned flags)
{
    struct cr_dir d;
    memset(&d, 0, sizeof d);
    struct proc_stat st;
    cr_assert_eq(proc_stat_read(getpid(), &st), 0);
    d.pid = getpid();
    d.start_time = st.start_time;
    d.origin = origin;
    d.flags = flags;
    if (!(flags & CR_DIR_ABSENT_AT_LAUNCH)) {
        struct stat sb;
        cr_assert_eq(lstat(path, &sb), 0, "record %s: %s", path, strerror(errno));
        d.dev = (uint64_t)sb.st_dev;
        d.ino = (uint64_t)sb.st_ino;
    }
    cr_assert_lt(cr_strlcpy(d.path, path, sizeof d.path), sizeof d.path);
    cr_assert_geq(registry_append_dir(reg, &d), 0);
}

static inline void dt_record(const char *path, unsigned origin, unsigned flags)
{
    dt_record_in(&dt_reg, path, origin, flags);
}

/* `chromereaper reap --session <ours> --json [extra]`; the exit code. */
static inline int dt_reap(const char *extra, char **out)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", dt_session, "--grace", "0.3",
                    "--json", (char *)extra, NULL};
    return ts_run(argv, out);
}

/* The report row of `path` says `action`, and its "why" holds `why_part`. */
static inline void dt_expect_dir(const char *json, const char *path, const char *action, const char *why_part)
{
    const char *needle = dt_fmt("{\"path\":\"%s\",", path);
    const char *row = strstr(json, needle);
    cr_assert_not_null(row, "%s is not in the report: %s", path, json);
    const char *end = strchr(row, '}');
    cr_assert_not_null(end);
    const char *buf = dt_fmt("%.*s", (int)(end - row), row);
    const char *want = dt_fmt("\"action\":\"%s\"", action);
    cr_assert(strstr(buf, want), "%s: expected %s, got %s", path, action, buf);
    if (why_part)
        cr_assert(strstr(buf, why_part), "%s: expected a why with \"%s\", got %s", path, why_part, buf);
}

/* Mounts `source` (a bind mount when fstype is NULL) on `target`,
 * remembered for dt_teardown. */
static inline void dt_mount(const char *source, const char *target, const char *fstype)
{
    cr_assert_lt(dt_nmounts, DT_MAX_MOUNTS);
    int rc = fstype ? mount(source, target, fstype, 0, "size=1m,mode=0700")
                    : mount(source, target, NULL, MS_BIND, NULL);
    cr_assert_eq(rc, 0, "mount %s on %s: %s", source, target, strerror(errno));
    snprintf(dt_mounts[dt_nmounts++], sizeof dt_mounts[0], "%s", target);
}

#endif
