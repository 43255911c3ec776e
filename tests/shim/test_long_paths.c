/* Paths longer than the registry's fields.  A directory slot holds a path
 * of CR_DIR_PATH_MAX - 1 (463) bytes: a browser's directory with a longer
 * path is not recorded at all, never cut short (a truncated path names some
 * other directory, and the reaper deletes nothing from a guess); one byte
 * shorter is recorded whole.  An entry keeps CR_EXE_MAX - 1 (215) bytes of
 * its executable, for display: the role is classified from the whole path. */
#include <errno.h>
#include <sys/stat.h>

#include "shim_test.h"

/* shx.tmp/<filler>/<name padded with 'x'> of exactly `len` bytes; the
 * filler directory is made. */
static void path_of_length(char *out, size_t len, const char *tail)
{
    char filler[600];
    snprintf(filler, sizeof filler, "%s/%0200d", shx.tmp, 0);
    if (mkdir(filler, 0700) < 0)
        cr_assert_eq(errno, EEXIST, "mkdir %s: %s", filler, strerror(errno));
    size_t have = strlen(filler) + 1 + strlen(tail);
    cr_assert_lt(have, len);
    snprintf(out, len + 1, "%s/%0*d%s", filler, (int)(len - have), 0, tail);
    cr_assert_eq(strlen(out), len);
}

/* Runs fx_mkdtemp as "chromium" (a browser): mkdtemp(`tmpl`) and
 * --user-data-dir=`profile`.  Returns the directory it made. */
static void run_browser(const char *tmpl, const char *profile, char *made, size_t len)
{
    const char *browser = shx_tmp("chromium");
    if (access(browser, F_OK) != 0)
        cr_assert_eq(link(ts_build("fixtures/fx_mkdtemp"), browser), 0, "link: %s", strerror(errno));
    char udd[700];
    snprintf(udd, sizeof udd, "--user-data-dir=%s", profile);
    char *argv[] = {(char *)browser, (char *)tmpl, (char *)shx_tmp("out"), udd, NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    shx_assert_exit0(shx_wait(pid, 60), "fx_mkdtemp as chromium");
    char *text = ts_slurp(shx_tmp("out"));
    cr_assert_not_null(text);
    text[strcspn(text, "\n")] = '\0';
    snprintf(made, len, "%s", text);
    free(text);
}

/* How many directory records name `path` exactly, and whether any is a
 * prefix of it (a cut-short copy). */
static int records_of(const char *path, int *cut)
{
    struct cr_registry reg;
    char why[256] = "";
    cr_assert_eq(registry_open(&reg, (uint32_t)getuid(), shx.id, 0, why, sizeof why), CR_REG_OK, "%s",
                 why);
    int n = 0;
    for (uint32_t i = 0; i < registry_dir_count(&reg); i++) {
        struct cr_dir d;
        if (!registry_dir_read(&reg, i, &d))
            continue;
        n += strcmp(d.path, path) == 0;
        *cut |= strcmp(d.path, path) != 0 && strncmp(d.path, path, strlen(d.path)) == 0;
    }
    registry_close(&reg);
    return n;
}

Test(shim_long_paths, a_path_longer_than_a_slot_is_not_recorded_one_that_fits_is_whole,
     .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    /* a mkdtemp directory and a --user-data-dir, one of them a byte too long */
    const size_t fits = CR_DIR_PATH_MAX - 1, too_long = CR_DIR_PATH_MAX;
    const size_t lengths[2][2] = {{fits, too_long}, {too_long, fits}};
    for (int k = 0; k < 2; k++) {
        char tmpl[600], profile[600], made[600];
        int cut = 0;
        path_of_length(tmpl, lengths[k][0], "XXXXXX");
        path_of_length(profile, lengths[k][1], "-profile");
        run_browser(tmpl, profile, made, sizeof made);
        cr_assert_eq(strlen(made), lengths[k][0]);
        cr_expect_eq(records_of(made, &cut), lengths[k][0] == fits,
                     "a %zu-byte mkdtemp directory: recorded wrong", lengths[k][0]);
        cr_expect_eq(records_of(profile, &cut), lengths[k][1] == fits,
                     "a %zu-byte profile: recorded wrong", lengths[k][1]);
        cr_expect_not(cut, "a path was recorded cut short");
        ts_rm_rf(made);
    }
}

/* A browser installed deep in a CI workspace: its executable's path is
 * longer than an entry holds, and it is still a browser. */
Test(shim_long_paths, a_browser_whose_path_is_longer_than_an_entry_is_still_a_browser,
     .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char dir[600], browser[700];
    path_of_length(dir, 300, "");
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir: %s", strerror(errno));
    snprintf(browser, sizeof browser, "%s/chromium", dir);
    cr_assert_eq(link(ts_build("fixtures/fx_mkdtemp"), browser), 0, "link: %s", strerror(errno));
    char *argv[] = {browser, shx.tmp, (char *)shx_tmp("out"), NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    shx_assert_exit0(shx_wait(pid, 60), "fx_mkdtemp as a deep chromium");

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    struct cr_entry e;
    cr_assert_eq(shx_count(&es, pid, -1, CR_SEEN_CONSTRUCTOR, &e), 1);
    cr_expect_eq(e.role, CR_ROLE_BROWSER, "role %s", role_name((enum cr_role)e.role));
    cr_expect_eq(strlen(e.exe), (size_t)CR_EXE_MAX - 1, "exe: %s", e.exe);
    cr_expect_eq(strncmp(e.exe, browser, CR_EXE_MAX - 1), 0, "exe: %s", e.exe);
    free(es.e);
}

/* The library's own path, as LD_PRELOAD names it, goes into the
 * environment of every child that lacks it: also one longer than the
 * buffer the library keeps it in (shim/preload_entry.c). */
Test(shim_long_paths, a_library_path_longer_than_its_buffer_is_handed_on_whole, .init = shx_init,
     .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char lib[1024];
    int len = snprintf(lib, sizeof lib, "%s/%0200d", shx.tmp, 0);
    cr_assert_eq(mkdir(lib, 0700), 0, "mkdir: %s", strerror(errno));
    snprintf(lib + len, sizeof lib - (size_t)len, "/%0200d", 1);
    cr_assert_eq(mkdir(lib, 0700), 0, "mkdir: %s", strerror(errno));
    cr_assert_lt(strlen(lib) + sizeof "/libchromereaper.so", sizeof lib);
    strcat(lib, "/libchromereaper.so");
    cr_assert_gt(strlen(lib), 400);
    char *real = realpath(ts_build("libchromereaper.so"), NULL);
    cr_assert_not_null(real);
    cr_assert_eq(symlink(real, lib), 0, "symlink: %s", strerror(errno));
    free(real);

    /* fx_launch with LD_PRELOAD=<lib>; its child gets a bare environment,
     * which the exec wrapper completes */
    struct shx_line line;
    pid_t pid = shx_launch_preloading("bare", lib, &line);
    cr_expect_str_eq(line.preload_value, lib, "LD_PRELOAD of the child");
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(shx_count(&es, line.pid, pid, CR_SEEN_EXEC, NULL), 1, "the child's exec was not recorded");
    cr_expect_eq(shx_count(&es, 0, line.pid, CR_SEEN_FORK, NULL), 1,
                 "the library, loaded in the child through that path, did not record its fork");
    free(es.e);
}
