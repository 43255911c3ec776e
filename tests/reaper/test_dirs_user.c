/* Directory removal as a non-root owner (user nobody, 65534): the session,
 * its records and the reap all belong to nobody, as for a bot run by an
 * ordinary user.  Root is needed to become nobody; without it the suite
 * skips.
 *
 * Decided behaviour: a non-root owner cannot list or empty its own
 * directories without u+rwx, so the reaper gives its own directories
 * (checked on the fd it then opens) u+rwx before emptying them; files need
 * no write permission to be unlinked.  What belongs to another uid is left
 * and reported, never chmod'ed. */
#include <grp.h>
#include <sys/wait.h>

#include "test_dirs.h"

#define NOBODY 65534

static char nb_session[64];

static void nb_session_start(void);

static void nb_setup(void)
{
    dt_setup();
    nb_session[0] = '\0';
    if (geteuid() != 0)
        return;
    cr_assert_eq(chown(dt_base, NOBODY, NOBODY), 0);
    snprintf(nb_session, sizeof nb_session, "crtest-%d-nobody", (int)getpid());
    registry_unlink(NOBODY, nb_session);
    nb_session_start();
}

static void nb_teardown(void)
{
    if (nb_session[0])
        registry_unlink(NOBODY, nb_session);
    dt_teardown();
}

TestSuite(dirs_user, .init = nb_setup, .fini = nb_teardown, .timeout = 60);

static int become_nobody(void)
{
    return setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0 ? 0 : -1;
}

/* nobody's session, made by a child that is nobody, so that the registry
 * is nobody's; then the test waits past its birth: the directories the
 * tests make are made during the session. */
static void nb_session_start(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct cr_registry reg;
        if (become_nobody() < 0)
            _exit(10);
        if (registry_create(&reg, nb_session, CR_ENTRY_CAPACITY_DEFAULT, CR_DIR_CAPACITY_DEFAULT) != CR_REG_OK)
            _exit(11);
        registry_close(&reg);
        _exit(0);
    }
    int st = ts_waitpid(pid, 30);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "making nobody's session: status %#x", st);
    ts_after_birth_of(ts_registry_file(NOBODY, nb_session), dt_base);
}

/* A mkdtemp record of each path (identity taken now) in nobody's session,
 * appended by nobody (up to 8). */
static void nb_session_with(const char *const *paths, int n)
{
    struct stat sb[8];
    cr_assert_leq(n, 8);
    for (int i = 0; i < n; i++) /* as root: nobody may not reach them all */
        cr_assert_eq(lstat(paths[i], &sb[i]), 0, "%s: %s", paths[i], strerror(errno));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (become_nobody() < 0)
            _exit(10);
        struct cr_registry reg;
        if (registry_open(&reg, NOBODY, nb_session, 1, NULL, 0) != CR_REG_OK)
            _exit(11);
        struct proc_stat st;
        if (proc_stat_read(getpid(), &st) < 0)
            _exit(12);
        for (int i = 0; i < n; i++) {
            struct cr_dir d;
            memset(&d, 0, sizeof d);
            d.pid = getpid();
            d.start_time = st.start_time;
            d.origin = CR_DIR_MKDTEMP;
            d.dev = (uint64_t)sb[i].st_dev;
            d.ino = (uint64_t)sb[i].st_ino;
            cr_strlcpy(d.path, paths[i], sizeof d.path);
            if (registry_append_dir(&reg, &d) < 0)
                _exit(14);
        }
        registry_close(&reg);
        _exit(0);
    }
    int st = ts_waitpid(pid, 30);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "recording nobody's directories: status %#x", st);
}

/* `chromereaper reap --session <nobody's> --json`, run as nobody. */
static int nb_reap(char **out)
{
    int fds[2];
    cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        if (become_nobody() < 0)
            _exit(120);
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", nb_session, "--json", NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(fds[0], buf + len, cap - len - 1)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0)
            len += (size_t)n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    close(fds[0]);
    int st = ts_waitpid(pid, 60);
    *out = buf;
    cr_assert(WIFEXITED(st), "the reaper did not exit: %#x: %s", st, buf);
    return WEXITSTATUS(st);
}

/* Gives `path` and everything below it to nobody (symlinks themselves). */
static void give_to_nobody(const char *path)
{
    char *argv[] = {"chown", "-R", "-h", "65534:65534", (char *)path, NULL};
    cr_assert_eq(ts_run(argv, NULL), 0);
}

/* Directories without r, w or x (nested ones too), read-only files, the
 * recorded directory itself without w: all nobody's, all removed. */
Test(dirs_user, the_owner_removes_its_unreadable_and_unwritable_dirs)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to become user nobody");
    const char *tmp = dt_path("org.chromium.Chromium.user12");
    dt_profile(tmp);
    const char *modes[] = {"0000", "0100", "0200", "0300", "0400", "0500", "0600"};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        dt_mkdir(dt_fmt("%s/dir-%s", tmp, modes[i]), 0700);
        dt_write(dt_fmt("%s/dir-%s/file", tmp, modes[i]), "x\n");
        dt_mkdir(dt_fmt("%s/dir-%s/inner", tmp, modes[i]), 0700);
        dt_write(dt_fmt("%s/dir-%s/inner/file", tmp, modes[i]), "x\n");
    }
    dt_write(dt_fmt("%s/readonly.txt", tmp), "ro\n");
    give_to_nobody(tmp);
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        mode_t m = (mode_t)strtol(modes[i], NULL, 8);
        cr_assert_eq(chmod(dt_fmt("%s/dir-%s/file", tmp, modes[i]), 0), 0);
        cr_assert_eq(chmod(dt_fmt("%s/dir-%s/inner/file", tmp, modes[i]), 0), 0);
        cr_assert_eq(chmod(dt_fmt("%s/dir-%s/inner", tmp, modes[i]), m), 0);
        cr_assert_eq(chmod(dt_fmt("%s/dir-%s", tmp, modes[i]), m), 0);
    }
    cr_assert_eq(chmod(dt_fmt("%s/readonly.txt", tmp), 0444), 0);
    cr_assert_eq(chmod(tmp, 0500), 0);
    const char *paths[] = {tmp};
    nb_session_with(paths, 1);

    char *out = NULL;
    int rc = nb_reap(&out);
    cr_assert_eq(rc, 0, "%s", out);
    dt_expect_dir(out, tmp, "removed", NULL);
    cr_assert_not(dt_exists(tmp), "%s is still there", tmp);
    free(out);
}

/* In nobody's profile, a file and a directory of root's: nobody could
 * unlink the file, but what is not the session's stays, and is reported;
 * nobody's own entries around them go. */
Test(dirs_user, what_root_owns_in_the_owners_profile_is_left_and_reported)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to become user nobody");
    const char *tmp = dt_path("org.chromium.Chromium.user34");
    dt_profile(tmp);
    give_to_nobody(tmp);
    const char *roots_file = dt_fmt("%s/Default/roots.txt", tmp);
    dt_write(roots_file, "root's\n");
    const char *roots_dir = dt_fmt("%s/roots-dir", tmp);
    dt_victim(roots_dir);
    const char *paths[] = {tmp};
    nb_session_with(paths, 1);

    char *out = NULL;
    int rc = nb_reap(&out);
    cr_assert_eq(rc, 1, "%s", out);
    dt_expect_dir(out, tmp, "failed", "owned by uid 0, left:");
    dt_expect_file(roots_file, "root's\n");
    dt_expect_victim(roots_dir);
    cr_assert_not(dt_exists(dt_fmt("%s/Local State", tmp)));
    cr_assert_not(dt_exists(dt_fmt("%s/Default/Preferences", tmp)));
    free(out);
}

/* A directory nobody cannot enter and cannot chmod (root's, mode 0700)
 * inside nobody's profile: reported, not a crash, the rest removed. */
Test(dirs_user, a_foreign_unreadable_dir_is_reported)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to become user nobody");
    const char *tmp = dt_path("org.chromium.Chromium.user56");
    dt_profile(tmp);
    dt_mkdir(dt_fmt("%s/Default/mine", tmp), 0000);
    give_to_nobody(tmp);
    const char *closed = dt_fmt("%s/Default/closed", tmp);
    dt_victim(closed);
    cr_assert_eq(chmod(closed, 0700), 0);
    const char *paths[] = {tmp};
    nb_session_with(paths, 1);

    char *out = NULL;
    int rc = nb_reap(&out);
    cr_assert_eq(rc, 1, "%s", out);
    dt_expect_dir(out, tmp, "failed", "Default/closed");
    dt_expect_victim(closed);
    cr_assert_not(dt_exists(dt_fmt("%s/Default/mine", tmp)), "nobody's own mode-0 directory stayed");
    free(out);
}

/* `chromereaper reap --session <nobody's> --uid 65534 --json`, run as root. */
static int root_reaps_nobody(char **out)
{
    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", nb_session, "--uid", "65534",
                    "--grace", "0", "--json", NULL};
    return ts_run(argv, out);
}

/* Root reaping nobody's session acts with nobody's rights: a profile of
 * nobody's in a directory of root's (mode 0755) is emptied (nobody may
 * do that) but stays (nobody cannot unlink it from root's directory); one
 * behind a directory nobody cannot even enter (root's, 0700) is untouched.
 * Today root removes both. */
Test(dirs_user, root_reaping_nobodys_session_removes_only_what_nobody_could)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to reap another uid's session");
    const char *open_parent = dt_path("roots-0755");
    const char *closed_parent = dt_path("roots-0700");
    dt_mkdir(open_parent, 0755);
    dt_mkdir(closed_parent, 0700);
    cr_assert_eq(chown(open_parent, 0, 0), 0);
    cr_assert_eq(chown(closed_parent, 0, 0), 0);
    const char *emptied = dt_fmt("%s/org.chromium.Chromium.nb0755", open_parent);
    const char *behind = dt_fmt("%s/org.chromium.Chromium.nb0700", closed_parent);
    dt_profile(emptied);
    dt_profile(behind);
    give_to_nobody(emptied);
    give_to_nobody(behind);
    const char *paths[] = {emptied, behind};
    nb_session_with(paths, 2);

    char *out = NULL;
    int rc = root_reaps_nobody(&out);
    cr_assert_eq(rc, 1, "what nobody could not remove is a leftover: exit 1: %s", out);
    cr_assert(dt_exists(emptied), "root removed nobody's directory from root's own directory: %s", out);
    cr_assert_not(dt_exists(dt_fmt("%s/Local State", emptied)), "nobody's own files inside stayed: %s", out);
    dt_expect_dir(out, emptied, "failed", "Permission denied");
    dt_expect_file(dt_fmt("%s/Default/Preferences", behind), "{\"profile\":{}}\n");
    dt_expect_dir(out, behind, "failed", "Permission denied");
    free(out);
}
