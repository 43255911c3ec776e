/* Removal never crosses into another mount: a bind mount (of a directory
 * or of a file) or another filesystem inside a recorded directory is left
 * with everything in it and reported; a recorded directory that is itself
 * a mount point is not entered.  Needs root (mount(2)).  Each test runs in
 * a mount namespace of its own, with private propagation, so a mount can
 * never outlive the test process; dt_teardown unmounts them anyway. */
#include <sched.h>

#include "test_dirs.h"

static void mnt_setup(void)
{
    dt_setup();
    if (geteuid() != 0)
        return;
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare(CLONE_NEWNS): %s", strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "make / private: %s", strerror(errno));
}

TestSuite(dirs_mounts, .init = mnt_setup, .fini = dt_teardown, .timeout = 60);

#define NEED_ROOT()                                                                    \
    do {                                                                               \
        if (geteuid() != 0)                                                            \
            cr_skip_test("needs root to mount (bind mounts and tmpfs) in a test");     \
    } while (0)

Test(dirs_mounts, a_bind_mount_inside_is_not_crossed)
{
    NEED_ROOT();
    const char *victim = dt_path("victim");
    dt_victim(victim);
    const char *victim_file = dt_path("victim-file.txt");
    dt_write(victim_file, "a bound file\n");
    const char *tmp = dt_path("org.chromium.Chromium.bind12");
    dt_profile(tmp);
    const char *sub = dt_fmt("%s/Default/sub", tmp);
    dt_mkdir(sub, 0700);
    const char *bound = dt_fmt("%s/bound.txt", tmp);
    dt_write(bound, "");
    dt_record(tmp, CR_DIR_MKDTEMP, 0);
    dt_mount(victim, sub, NULL);
    dt_mount(victim_file, bound, NULL);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 1, "a mount point stays: exit 1: %s", out);
    dt_expect_dir(out, tmp, "failed", "mount point not crossed:");
    dt_expect_dir(out, tmp, "failed", "(and 1 more left)");
    dt_expect_victim(victim);
    dt_expect_file(victim_file, "a bound file\n");
    dt_expect_victim(sub); /* still mounted, seen through the mount */
    cr_assert_not(dt_exists(dt_fmt("%s/Local State", tmp)), "the rest was not removed");
    cr_assert_not(dt_exists(dt_fmt("%s/Default/Preferences", tmp)));
    free(out);
}

Test(dirs_mounts, another_filesystem_inside_is_not_crossed)
{
    NEED_ROOT();
    const char *tmp = dt_path("org.chromium.Chromium.tmpfs1");
    dt_profile(tmp);
    const char *fs = dt_fmt("%s/Default/tmpfs", tmp);
    dt_mkdir(fs, 0700);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);
    dt_mount("none", fs, "tmpfs");
    dt_victim(dt_fmt("%s/data", fs));

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 1, "%s", out);
    dt_expect_dir(out, tmp, "failed", "mount point not crossed: Default/tmpfs");
    dt_expect_victim(dt_fmt("%s/data", fs));
    cr_assert_not(dt_exists(dt_fmt("%s/Local State", tmp)));
    free(out);
}

/* The recorded directory itself is a mount point: a --user-data-dir
 * created during the session with a tmpfs mounted on it, a mkdtemp
 * directory with a victim bind-mounted on it.  Neither is entered. */
Test(dirs_mounts, a_recorded_dir_that_is_a_mount_point_is_not_entered)
{
    NEED_ROOT();
    const char *udd = dt_path("udd");
    dt_record(udd, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH);
    dt_mkdir(udd, 0700);
    dt_mount("none", udd, "tmpfs");
    cr_assert_eq(chmod(udd, 0700), 0);
    dt_victim(dt_fmt("%s/data", udd));

    const char *victim = dt_path("victim");
    dt_victim(victim);
    const char *tmp = dt_path("org.chromium.Chromium.mnt123");
    dt_profile(tmp);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);
    dt_mount(victim, tmp, NULL);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, udd, "kept", "a mount point");
    dt_expect_dir(out, tmp, "kept", NULL);
    dt_expect_victim(dt_fmt("%s/data", udd));
    dt_expect_victim(victim);
    free(out);
}
