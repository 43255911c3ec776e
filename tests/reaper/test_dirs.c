/* Directory removal never harms anything but the recorded directory: each
 * test records directories in a session itself (as the shim would), changes
 * the filesystem under the reaper the way a bot, a user or an attacker
 * could, reaps, and checks both the filesystem (every victim byte intact)
 * and the report (each directory's action and why). */
#include <signal.h>

#include "test_dirs.h"

TestSuite(dirs, .init = dt_setup, .fini = dt_teardown, .timeout = 60);

/* The recorded directory is replaced by a symlink to a victim directory:
 * the symlink is never followed, the victim keeps everything. */
Test(dirs, a_recorded_dir_replaced_by_a_symlink_spares_the_victim)
{
    const char *victim = dt_path("victim");
    dt_victim(victim);
    const char *tmp = dt_path("org.chromium.Chromium.abc123");
    const char *udd = dt_path("udd");
    dt_profile(tmp);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);
    dt_record(udd, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH);
    dt_profile(udd); /* the browser made it */

    ts_rm_rf(tmp);
    ts_rm_rf(udd);
    dt_symlink(victim, tmp);
    dt_symlink(victim, udd);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_victim(victim);
    cr_assert(dt_exists(tmp) && dt_exists(udd), "the symlinks are not ours either: left");
    dt_expect_dir(out, tmp, "kept", "now a symlink");
    dt_expect_dir(out, udd, "kept", "now a symlink");
    free(out);
}

/* Another directory (another inode) now sits at the recorded path: left
 * alone, reported. */
Test(dirs, a_different_directory_at_the_recorded_path_is_left_alone)
{
    const char *tmp = dt_path("org.chromium.Chromium.def456");
    dt_profile(tmp);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);
    cr_assert_eq(rename(tmp, dt_path("moved-away")), 0);
    dt_victim(tmp);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_victim(tmp);
    dt_expect_file(dt_path("moved-away/Default/Preferences"), "{\"profile\":{}}\n");
    dt_expect_dir(out, tmp, "kept", "inode changed");
    free(out);
}

/* Symlinks inside the profile pointing outside (absolute, relative,
 * to a directory, to a file, dangling, nested): the links go, their targets
 * stay. */
Test(dirs, symlinks_inside_are_removed_and_their_targets_kept)
{
    const char *victim = dt_path("victim");
    dt_victim(victim);
    const char *tmp = dt_path("org.chromium.Chromium.ghi789");
    dt_profile(tmp);
    const char *p;
    p = dt_fmt("%s/to-dir", tmp);
    dt_symlink(victim, p);
    p = dt_fmt("%s/to-file", tmp);
    dt_symlink(dt_path("victim/precious.txt"), p);
    p = dt_fmt("%s/relative", tmp);
    dt_symlink("../victim", p);
    p = dt_fmt("%s/dangling", tmp);
    dt_symlink("/nonexistent/crtest", p);
    p = dt_fmt("%s/Default/to-sub", tmp);
    dt_symlink(dt_path("victim/sub"), p);
    p = dt_fmt("%s/SingletonLock", tmp); /* as Chrome makes it */
    dt_symlink("crtest-host-12345", p);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, tmp, "removed", NULL);
    cr_assert_not(dt_exists(tmp), "%s is still there", tmp);
    dt_expect_victim(victim);
    free(out);
}

/* A new session for the rest of a test: what the test made so far was
 * made before it. */
static void new_session(void)
{
    ts_session_remove(dt_session);
    registry_close(&dt_reg);
    ts_session_create(dt_session, sizeof dt_session, &dt_reg);
    ts_after_birth_of(ts_registry_file((uint32_t)getuid(), dt_session), dt_base);
}

/* A profile made before the session is never deleted, whatever Chrome
 * wrote into it and whatever its name. */
Test(dirs, a_profile_made_before_the_session_is_never_deleted)
{
    const char *udd = dt_path("puppeteer_dev_chrome_profile-mine");
    dt_victim(udd);
    new_session();
    dt_record(udd, CR_DIR_USER_DATA_DIR, 0);
    const char *p;
    p = dt_fmt("%s/Default", udd); /* Chrome writes into it */
    dt_mkdir(p, 0700);
    p = dt_fmt("%s/Default/Preferences", udd);
    dt_write(p, "{}\n");
    dt_record(udd, CR_DIR_MKDTEMP, 0); /* and whatever else is claimed */

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, udd, "kept", "made before the session");
    dt_expect_victim(udd);
    dt_expect_file(p, "{}\n");
    free(out);
}

/* Made during the session: removed in /tmp, kept elsewhere (a bot may
 * make a profile it means to keep), and a path that only looks like it is
 * in /tmp ("/tmp/../var/tmp/...") is refused. */
Test(dirs, a_profile_made_in_the_session_goes_only_from_a_temp_dir)
{
    unsetenv("TMPDIR"); /* the reaper inherits it */
    const char *in_tmp = dt_path("puppeteer_dev_chrome_profile-fresh");
    const char *kept = dt_other_path("puppeteer_dev_chrome_profile-kept");
    const char *dotdot_target = dt_other_path("puppeteer_dev_chrome_profile-sneaky");
    const char *dotdot;
    dotdot = dt_fmt("/tmp/..%s", dotdot_target);
    dt_profile(in_tmp);
    dt_profile(kept);
    dt_profile(dotdot_target);
    dt_record(in_tmp, CR_DIR_USER_DATA_DIR, 0);
    dt_record(kept, CR_DIR_USER_DATA_DIR, 0);
    dt_record(dotdot, CR_DIR_USER_DATA_DIR, 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, in_tmp, "removed", NULL);
    cr_assert_not(dt_exists(in_tmp));
    dt_expect_dir(out, kept, "kept", "outside a temporary directory");
    dt_expect_dir(out, dotdot, "kept", "component");
    const char *p;
    p = dt_fmt("%s/Default/Preferences", kept);
    dt_expect_file(p, "{\"profile\":{}}\n");
    p = dt_fmt("%s/Default/Preferences", dotdot_target);
    dt_expect_file(p, "{\"profile\":{}}\n");
    free(out);
}

/* $TMPDIR (the reaper's) is a temporary directory too; "/" never is. */
Test(dirs, a_profile_made_under_tmpdir_is_removed)
{
    const char *under = dt_other_path("playwright_chromiumdev_profile-a");
    dt_profile(under);
    dt_record(under, CR_DIR_USER_DATA_DIR, 0);
    cr_assert_eq(setenv("TMPDIR", dt_other, 1), 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, under, "removed", NULL);
    cr_assert_not(dt_exists(under));
    free(out);

    /* TMPDIR=/ would make every path temporary: it counts for nothing */
    new_session();
    const char *elsewhere = dt_other_path("playwright_chromiumdev_profile-b");
    dt_profile(elsewhere);
    dt_record(elsewhere, CR_DIR_USER_DATA_DIR, 0);
    cr_assert_eq(setenv("TMPDIR", "/", 1), 0);
    rc = dt_reap(NULL, &out);
    unsetenv("TMPDIR");
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, elsewhere, "kept", "outside a temporary directory");
    cr_assert(dt_exists(elsewhere));
    free(out);
}

/* A --user-data-dir "absent at launch" that no reaper ever saw a browser
 * use has no identity to check: kept, however Chrome-like its name. */
Test(dirs, a_profile_absent_at_launch_and_never_seen_is_kept)
{
    const char *udd = dt_path("playwright_chromiumdev_profile-unseen");
    dt_record(udd, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH);
    dt_profile(udd);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, udd, "kept", "no recorded identity");
    dt_expect_file(dt_fmt("%s/Default/Preferences", udd), "{\"profile\":{}}\n");
    free(out);
}

/* A recorded directory now owned by another uid is not ours: kept. */
Test(dirs, a_recorded_dir_of_another_uid_is_kept)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to chown a directory to another uid");
    const char *tmp = dt_path("org.chromium.Chromium.own123");
    const char *udd = dt_path("udd");
    dt_profile(tmp);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);
    dt_record(udd, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH);
    dt_profile(udd);
    cr_assert_eq(chown(tmp, 65534, 65534), 0);
    cr_assert_eq(chown(udd, 65534, 65534), 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, tmp, "kept", "owned by uid 65534");
    dt_expect_dir(out, udd, "kept", "owned by uid 65534");
    const char *p;
    p = dt_fmt("%s/Default/Preferences", tmp);
    dt_expect_file(p, "{\"profile\":{}}\n");
    p = dt_fmt("%s/Default/Preferences", udd);
    dt_expect_file(p, "{\"profile\":{}}\n");
    free(out);
}

/* Inside a profile, what belongs to another uid stays (symlinks, only
 * names, go); the rest is removed and the leftover reported. */
Test(dirs, contents_of_another_uid_inside_are_left_and_reported)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to chown files to another uid");
    const char *tmp = dt_path("org.chromium.Chromium.mix123");
    dt_profile(tmp);
    const char *theirs, *their_dir, *their_link;
    theirs = dt_fmt("%s/theirs.txt", tmp);
    dt_write(theirs, "theirs\n");
    cr_assert_eq(chown(theirs, 65534, 65534), 0);
    their_dir = dt_fmt("%s/Default/theirs", tmp);
    dt_victim(their_dir);
    cr_assert_eq(chown(their_dir, 65534, 65534), 0);
    their_link = dt_fmt("%s/their-link", tmp);
    dt_symlink("/etc/hostname", their_link);
    cr_assert_eq(lchown(their_link, 65534, 65534), 0);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 1, "something was left: exit 1: %s", out);
    dt_expect_dir(out, tmp, "failed", "owned by uid 65534, left:");
    dt_expect_dir(out, tmp, "failed", "(and 1 more left)");
    dt_expect_file(theirs, "theirs\n");
    dt_expect_victim(their_dir);
    cr_assert_not(dt_exists(their_link));
    const char *p;
    p = dt_fmt("%s/Local State", tmp);
    cr_assert_not(dt_exists(p), "our own file next to theirs was not removed");
    p = dt_fmt("%s/Default/Preferences", tmp);
    cr_assert_not(dt_exists(p));
    free(out);
}

/* A parent component of the recorded path is swapped for a symlink to a
 * victim directory that holds a "profile" of its own.  The path is resolved
 * without following symlinks, so nothing under the victim is touched: for
 * a --user-data-dir recorded as absent at launch (no identity to check) as
 * for a mkdtemp directory (whose identity would not match either). */
Test(dirs, a_parent_swapped_for_a_symlink_redirects_nothing)
{
    const char *victim_a = dt_path("victim-a"), *victim_b = dt_path("victim-b");
    dt_mkdir(victim_a, 0755);
    dt_mkdir(victim_b, 0755);
    dt_victim(dt_path("victim-a/profile"));
    dt_victim(dt_path("victim-b/profile"));
    dt_mkdir(dt_path("a"), 0755);
    dt_mkdir(dt_path("b"), 0755);
    const char *udd = dt_path("a/profile"), *tmp = dt_path("b/profile");
    dt_record(udd, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH);
    dt_profile(udd);
    dt_profile(tmp);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);

    cr_assert_eq(rename(dt_path("a"), dt_path("a.real")), 0);
    cr_assert_eq(rename(dt_path("b"), dt_path("b.real")), 0);
    dt_symlink(victim_a, dt_path("a"));
    dt_symlink(victim_b, dt_path("b"));

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_victim(dt_path("victim-a/profile"));
    dt_expect_victim(dt_path("victim-b/profile"));
    dt_expect_dir(out, udd, "kept", "the path goes through a symlink");
    dt_expect_dir(out, tmp, "kept", "the path goes through a symlink");
    dt_expect_file(dt_path("a.real/profile/Default/Preferences"), "{\"profile\":{}}\n");
    free(out);

    /* the dry run applies the same checks */
    new_session();
    dt_record(udd, CR_DIR_USER_DATA_DIR, CR_DIR_ABSENT_AT_LAUNCH);
    rc = dt_reap("--dry-run", &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, udd, "kept", "the path goes through a symlink");
    free(out);
}

/* The same directory moved behind a symlink (identity matches) is still
 * reached through a symlink: left, not followed. */
Test(dirs, the_recorded_dir_moved_behind_a_symlink_is_left)
{
    dt_mkdir(dt_path("a"), 0755);
    const char *tmp = dt_path("a/org.chromium.Chromium.mv1234");
    dt_profile(tmp);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);
    cr_assert_eq(rename(dt_path("a"), dt_path("elsewhere")), 0);
    dt_symlink(dt_path("elsewhere"), dt_path("a"));

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, tmp, "kept", "the path goes through a symlink");
    dt_expect_file(dt_path("elsewhere/org.chromium.Chromium.mv1234/Default/Preferences"),
                   "{\"profile\":{}}\n");
    free(out);
}

/* Paths no removal may start from: "." and ".." components, a file where
 * the directory was, a shared sticky or world-writable directory. */
Test(dirs, unremovable_paths_are_kept_and_reported)
{
    dt_mkdir(dt_path("x"), 0700);
    const char *dotdot, *dot;
    dotdot = dt_fmt("%s/x/..", dt_base);
    dot = dt_fmt("%s/./x", dt_base);
    dt_record_in(&dt_reg, dotdot, CR_DIR_MKDTEMP, 0); /* the identity of dt_base itself */
    dt_record(dot, CR_DIR_MKDTEMP, 0);
    const char *file = dt_path("now-a-file");
    dt_mkdir(file, 0700);
    dt_record(file, CR_DIR_MKDTEMP, 0);
    cr_assert_eq(rmdir(file), 0);
    dt_write(file, "a file\n");
    const char *sticky = dt_path("shared");
    dt_mkdir(sticky, 01777);
    dt_write(dt_path("shared/someones.txt"), "someone's\n");
    dt_record(sticky, CR_DIR_MKDTEMP, 0);
    const char *wide = dt_path("world-writable");
    dt_mkdir(wide, 0777);
    dt_write(dt_path("world-writable/someones.txt"), "someone's\n");
    dt_record(wide, CR_DIR_MKDTEMP, 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, dotdot, "kept", "component");
    dt_expect_dir(out, dot, "kept", "component");
    dt_expect_dir(out, file, "kept", "no longer a directory");
    dt_expect_dir(out, sticky, "kept", "a shared directory");
    dt_expect_dir(out, wide, "kept", "a shared directory");
    cr_assert(dt_exists(dt_path("x")));
    dt_expect_file(file, "a file\n");
    dt_expect_file(dt_path("shared/someones.txt"), "someone's\n");
    dt_expect_file(dt_path("world-writable/someones.txt"), "someone's\n");
    free(out);
}

/* Deeper than RMTREE_MAX_DEPTH (128): no crash, everything shallower is
 * removed, the rest reported as left. */
Test(dirs, a_very_deep_tree_is_reported_as_partly_left)
{
    const char *tmp = dt_path("org.chromium.Chromium.deep12");
    dt_profile(tmp);
    int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(mkdirat(fd, "d", 0700), 0, "level %d: %s", i, strerror(errno));
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(next, 0);
        close(fd);
        fd = next;
    }
    int leaf = openat(fd, "leaf.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    cr_assert_geq(leaf, 0);
    close(leaf);
    close(fd);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 1, "a partly removed directory: exit 1: %s", out);
    dt_expect_dir(out, tmp, "failed", "too deep, not entered:");
    cr_assert(dt_exists(tmp));
    const char *p;
    p = dt_fmt("%s/Local State", tmp);
    cr_assert_not(dt_exists(p), "what was shallow enough was not removed");
    p = dt_fmt("%s/Default", tmp);
    cr_assert_not(dt_exists(p));
    free(out);
}

/* Read-only files, directories without r, w or x: root removes them all
 * (as a non-root owner: tests/reaper/test_dirs_user.c). */
Test(dirs, unwritable_and_unreadable_contents_go_as_root)
{
    if (geteuid() != 0)
        cr_skip_test("the root case; test_dirs_user.c has the owner's");
    const char *tmp = dt_path("org.chromium.Chromium.perm12");
    dt_profile(tmp);
    const char *modes[] = {"0000", "0100", "0300", "0500", "0600", "0400"};
    const char *p;
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        p = dt_fmt("%s/dir-%s", tmp, modes[i]);
        dt_mkdir(p, 0700);
        p = dt_fmt("%s/dir-%s/file", tmp, modes[i]);
        dt_write(p, "x\n");
        cr_assert_eq(chmod(p, 0), 0);
        p = dt_fmt("%s/dir-%s", tmp, modes[i]);
        cr_assert_eq(chmod(p, (mode_t)strtol(modes[i], NULL, 8)), 0);
    }
    p = dt_fmt("%s/readonly.txt", tmp);
    dt_write(p, "ro\n");
    cr_assert_eq(chmod(p, 0444), 0);
    cr_assert_eq(chmod(tmp, 0500), 0);
    dt_record(tmp, CR_DIR_MKDTEMP, 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, tmp, "removed", NULL);
    cr_assert_not(dt_exists(tmp));
    free(out);
}

/* A child of the test, outside the session, that lives in `dir` (its
 * working directory) or holds a file in it open; killed by the caller. */
static pid_t user_of(const char *dir, int open_file)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (open_file) {
            char path[4200];
            snprintf(path, sizeof path, "%s/Cookies", dir);
            if (open(path, O_RDWR | O_CREAT, 0600) < 0)
                _exit(1);
        } else if (chdir(dir) < 0) {
            _exit(1);
        }
        int fd = open(dt_fmt("%s/.in-use-%d", dt_base, (int)getpid()), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, "1", 1) != 1)
            _exit(2);
        close(fd);
        for (;;)
            pause();
    }
    ts_remember(pid);
    cr_assert_eq(ts_wait_file(dt_fmt("%s/.in-use-%d", dt_base, (int)pid), 10), 0, "the user of %s never started",
                 dir);
    return pid;
}

/* A directory a live process outside the reap uses is never deleted: its
 * working directory, a file it holds open, or the --user-data-dir of its
 * command line (a chromium of someone else's) lies there. */
Test(dirs, a_directory_a_live_process_uses_is_kept)
{
    const char *cwd = dt_path("org.chromium.Chromium.cwd123");
    const char *open_file = dt_path("org.chromium.Chromium.fd1234");
    const char *udd = dt_path("puppeteer_dev_chrome_profile-live");
    const char *unused = dt_path("org.chromium.Chromium.unused");
    const char *dirs[] = {cwd, open_file, udd, unused};
    for (int i = 0; i < 4; i++) {
        dt_profile(dirs[i]);
        dt_record(dirs[i], i == 2 ? CR_DIR_USER_DATA_DIR : CR_DIR_MKDTEMP, 0);
    }
    pid_t users[3];
    users[0] = user_of(cwd, 0);
    users[1] = user_of(open_file, 1);
    char flag[600];
    snprintf(flag, sizeof flag, "--user-data-dir=%s", udd);
    char *argv[] = {(char *)ts_build("fixtures/fake_chromium"), "bystander", flag, NULL};
    users[2] = ts_spawn(argv, NULL, NULL);
    for (int i = 0; i < 500; i++) { /* up once it re-exec'd as "chromium" */
        char cmd[64] = "";
        size_t len = 0;
        if (proc_file_read(users[2], "cmdline", cmd, sizeof cmd, &len) == 0 && strcmp(cmd, "chromium") == 0)
            break;
        usleep(10000);
    }

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    for (int i = 0; i < 3; i++) {
        ts_kill(users[i], SIGKILL);
        ts_waitpid(users[i], 10);
    }
    cr_assert_eq(rc, 0, "%s", out);
    for (int i = 0; i < 3; i++) {
        dt_expect_dir(out, dirs[i], "kept", dt_fmt("in use by pid %d", (int)users[i]));
        dt_expect_file(dt_fmt("%s/Default/Preferences", dirs[i]), "{\"profile\":{}}\n");
    }
    dt_expect_dir(out, unused, "removed", NULL);
    free(out);

    /* in use was for now: once its users are gone, the next reap of the
     * session (`reap --stale`, a watchdog's sweep) removes them */
    out = NULL;
    rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "the session was forgotten while its directories were in use: %s", out);
    for (int i = 0; i < 3; i++) {
        dt_expect_dir(out, dirs[i], "removed", NULL);
        cr_expect(!dt_exists(dirs[i]), "%s is still there", dirs[i]);
    }
    free(out);
}

/* Records are matched by identity, not by path: the bot removed its
 * profile and made a new one at the same path for its next browser; the
 * latest launch's (device, inode) is the one the reap checks, and the
 * profile goes.  The earlier record's identity would call it "a different
 * directory now" and keep the session's profile for ever. */
Test(dirs, a_profile_made_anew_at_the_same_path_goes_by_its_latest_identity)
{
    const char *udd = dt_path("puppeteer_dev_chrome_profile-again");
    dt_profile(udd);
    dt_record(udd, CR_DIR_USER_DATA_DIR, 0);
    /* the old one kept aside, so that the new one has another inode */
    cr_assert_eq(rename(udd, dt_path("put-aside")), 0);
    dt_profile(udd);
    dt_record(udd, CR_DIR_USER_DATA_DIR, 0);

    char *out = NULL;
    int rc = dt_reap(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, udd, "removed", NULL);
    cr_assert_not(dt_exists(udd));
    free(out);
}
