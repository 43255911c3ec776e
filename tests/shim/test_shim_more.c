/* The shim as a good guest: errno, exported symbols, threads, an unusable
 * registry, directories, and wrappers reached before its constructor.
 *
 * Suites: shim_errno, shim_exports, shim_layout, shim_threads,
 * shim_unusable, shim_mkdtemp, shim_early. */
#include <elf.h>
#include <limits.h>

#include "procfs.h"
#include "shim_test.h"

/* ------------------------------------------------------------ shim_errno */

/* fx_errno prints "<check> <result> <errno>" lines.  Without the shim they
 * say what libc does; under it they must say exactly the same. */
Test(shim_errno, wrappers_leave_errno_as_libc_does, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char *argv[] = {(char *)ts_build("fixtures/fx_errno"), NULL};

    pid_t plain = shx_spawn(argv, NULL, shx_tmp("plain"));
    shx_assert_exit0(shx_wait(plain, 60), "fx_errno without the shim");
    pid_t shimmed = shx_spawn(argv, shx.id, shx_tmp("shim"));
    shx_assert_exit0(shx_wait(shimmed, 60), "fx_errno under the shim");

    char *want = ts_slurp(shx_tmp("plain"));
    char *got = ts_slurp(shx_tmp("shim"));
    cr_assert_not_null(want);
    cr_assert_not_null(got);
    cr_assert_str_neq(want, "", "fx_errno printed nothing");

    /* line by line, so a failure names the check */
    char *ws = NULL, *gs = NULL;
    char *w = strtok_r(want, "\n", &ws), *g = strtok_r(got, "\n", &gs);
    int lines = 0;
    for (; w && g; w = strtok_r(NULL, "\n", &ws), g = strtok_r(NULL, "\n", &gs), lines++)
        cr_expect_str_eq(g, w, "under the shim \"%s\", libc alone \"%s\"", g, w);
    cr_expect(!w && !g, "fx_errno printed a different number of lines under the shim");
    cr_expect_geq(lines, 19);

    /* and what libc does is what the contract says (guards the baseline) */
    char *text = ts_slurp(shx_tmp("shim"));
    static const char *const must[] = {
        "errno_at_constructor 0 0\n", "fork_ok 1 33\n", "posix_spawn_ok 1 33\n",
        "posix_spawn_nullpid_ok 1 33\n", "execve_fail -1 2\n", "execv_fail -1 2\n",
        "execvp_fail -1 2\n", "execvp_path_fail -1 2\n", "execvpe_fail -1 2\n",
        "execl_fail -1 2\n", "execlp_fail -1 2\n", "execle_fail -1 2\n",
        "execve_fail_bigenv -1 2\n", "execve_fail_eacces -1 13\n", "mkdtemp_fail 0 2\n",
    };
    for (size_t i = 0; i < sizeof must / sizeof *must; i++)
        cr_expect_not_null(strstr(text, must[i]), "missing line \"%.*s\" (EDOM is 33, ENOENT 2)",
                           (int)strlen(must[i]) - 1, must[i]);

    /* the comparison means something only if the shim was active there */
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(shx_count(&es, shimmed, -1, CR_SEEN_CONSTRUCTOR, NULL), 1);
    cr_expect_eq(shx_count(&es, 0, shimmed, CR_SEEN_FORK, NULL), 1);
    cr_expect_eq(shx_count(&es, 0, shimmed, CR_SEEN_SPAWN, NULL), 3);
    /* each failed exec: recorded, then recorded as failed */
    cr_expect_eq(shx_count(&es, shimmed, -1, CR_SEEN_EXEC_FAILED, NULL), 10);
    cr_expect_eq(shx_count(&es, shimmed, -1, CR_SEEN_EXEC, NULL), 10);
    free(es.e);
    free(want);
    free(got);
    free(text);
}

/* ------------------------------------------------------------ shim_exports */

/* Anything the library exports can shadow its host's symbols: the wrapped
 * libc functions, all of them, and nothing else. */
Test(shim_exports, only_the_wrapped_libc_functions)
{
    static const char *const wrapped[] = {
        "fork",     "vfork",   "clone",       "execve",       "execv",  "execvp", "execvpe",
        "execl",    "execlp",  "execle",      "execveat",     "fexecve", "posix_spawn",
        "posix_spawnp", "system", "popen",    "mkdtemp",
    };
    enum { NW = sizeof wrapped / sizeof *wrapped };
    char *out = NULL;
    char *argv[] = {"nm", "-D", "--defined-only", (char *)ts_build("libchromereaper.so"), NULL};
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 0, "nm failed (%d)", rc);
    cr_assert_not_null(out);

    int seen[NW] = {0};
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char addr[64], type[8], name[512];
        int f = sscanf(l, "%63s %7s %511s", addr, type, name);
        cr_assert_eq(f, 3, "unexpected nm line \"%s\"", l);
        if (strcmp(type, "A") == 0 && strncmp(name, "GLIBC_", 6) == 0)
            continue; /* the version names those two versions are defined under */
        char *at = strchr(name, '@'); /* fork@@VERSION */
        if (at)
            *at = '\0';
        int known = -1;
        for (int i = 0; i < NW; i++)
            if (strcmp(name, wrapped[i]) == 0)
                known = i;
        cr_expect_neq(known, -1, "exported symbol \"%s\" (type %s) is not a wrapped libc function",
                      name, type);
        if (known >= 0) {
            cr_expect(strcmp(type, "T") == 0 || strcmp(type, "W") == 0 || strcmp(type, "i") == 0,
                      "%s is exported as type %s, not as a function", name, type);
            seen[known]++;
        }
    }
    for (int i = 0; i < NW; i++) {
        int want = 1;
#if defined(__x86_64__)
        /* glibc has two versions of these: one wrapper for each */
        want += strcmp(wrapped[i], "posix_spawn") == 0 || strcmp(wrapped[i], "posix_spawnp") == 0;
#endif
        cr_expect_eq(seen[i], want, "%s exported %d times", wrapped[i], seen[i]);
    }
    free(out);
}

/* ------------------------------------------------------------ shim_layout */

/* Every program maps the library: each mapping is an mmap, a page fault and
 * an unmapping at exit (Makefile, shim/link_layout.awk,
 * shim/preload_entry.c).  Its zero-initialised data ends on the last page
 * of its file, so the loader maps no page of zeros after it; where the
 * build made its link script, the read-only data shares the headers'
 * mapping.  What that must not cost: code on pages of its own, nothing
 * both writable and executable, RELRO. */
Test(shim_layout, three_mappings_with_code_apart_and_relro)
{
    char *image = ts_slurp(ts_build("libchromereaper.so"));
    cr_assert_not_null(image);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(void *)image;
    cr_assert_eq(memcmp(eh->e_ident, ELFMAG, SELFMAG), 0);
    cr_assert_eq(eh->e_ident[EI_CLASS], ELFCLASS64, "the test reads 64-bit ELF only");
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(void *)(image + eh->e_phoff);
    long page = sysconf(_SC_PAGESIZE);
    int loads = 0, read_only = 0, code = 0, relro = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_GNU_RELRO)
            relro++;
        if (ph[i].p_type != PT_LOAD)
            continue;
        loads++;
        read_only += ph[i].p_flags == PF_R;
        code += (ph[i].p_flags & PF_X) != 0;
        cr_expect(!((ph[i].p_flags & PF_W) && (ph[i].p_flags & PF_X)), "segment %d is writable and executable", i);
        uint64_t file_end = (ph[i].p_vaddr + ph[i].p_filesz + (uint64_t)page - 1) / (uint64_t)page * (uint64_t)page;
        cr_expect_leq(ph[i].p_vaddr + ph[i].p_memsz, file_end,
                      "segment %d: %llu bytes of zeros past the last page of its file content (a mapping of "
                      "their own in every program)", i,
                      (unsigned long long)(ph[i].p_vaddr + ph[i].p_memsz - file_end));
    }
    cr_expect_eq(code, 1, "%d executable segments", code);
    cr_expect_eq(relro, 1, "no RELRO segment");
    char *lds = ts_slurp(ts_build("shim.lds"));
    if (lds && *lds) {
        cr_expect_eq(read_only, 1, "%d read-only segments: the read-only data has one of its own", read_only);
        cr_expect_eq(loads, 3, "%d segments", loads);
    }
    free(lds);
    free(image);
}

/* ------------------------------------------------------------ shim_threads */

/* `threads` x `each` children of fx_threads run as argv, half
 * posix_spawn, half fork+execv: the fixture finishes (no deadlock in a
 * wrapper) and every child was recorded once by its parent (`pid`).
 * Nothing frees records here: the table holds them all (this counts
 * records; what a full table does is shim_unsupervised's). */
static void threads_all_recorded(char *const argv[], int children)
{
    pid_t pid = shx_spawn(argv, shx.id, shx_tmp("out"));
    int st = shx_wait(pid, 120);
    char *out = ts_slurp(shx_tmp("out"));
    cr_assert_not_null(out);
    shx_assert_exit0(st, "fx_threads");
    char want[32];
    snprintf(want, sizeof want, "%d 0\n", children);
    cr_expect_str_eq(out, want, "fx_threads: \"started failed\"");
    free(out);

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(es.overflow, 0u);
    int forks = shx_count(&es, 0, pid, CR_SEEN_FORK, NULL);
    int spawns = shx_count(&es, 0, pid, CR_SEEN_SPAWN, NULL);
    cr_expect_eq(forks + spawns, children, "recorded %d forks + %d spawns, expected %d", forks, spawns,
                 children);
    cr_expect_eq(forks, children / 2);
    cr_expect_eq(spawns, children / 2);
    /* the fork children exec'd through the wrapper, and /bin/true loaded
     * the shim in every spawned child; every child has its own record */
    cr_expect_eq(shx_count(&es, 0, pid, CR_SEEN_EXEC, NULL), children / 2);
    cr_expect_geq(shx_count(&es, 0, pid, CR_SEEN_CONSTRUCTOR, NULL), children / 2);
    cr_expect_eq(shx_self_recorded(&es, pid, NULL), children);
    cr_expect_eq(shx_count(&es, 0, -1, CR_SEEN_EXEC_FAILED, NULL), 0);
    free(es.e);
}

Test(shim_threads, concurrent_spawns_all_recorded, .init = shx_init, .fini = shx_fini)
{
    shx_session_sized(8192, CR_DIR_CAPACITY_DEFAULT);
    shx_tmpdir();
    char *argv[] = {(char *)ts_build("fixtures/fx_threads"), "8", "200", NULL};
    threads_all_recorded(argv, 1600);
}

/* The same from an image that its exec wrapper recorded: it has not mapped
 * the registry when its 8 threads first start children, and they race to
 * map it (one mapping wins, the others are undone). */
Test(shim_threads, threads_that_map_the_registry_at_once, .init = shx_init, .fini = shx_fini)
{
    shx_session_sized(8192, CR_DIR_CAPACITY_DEFAULT);
    shx_tmpdir();
    char script[600];
    snprintf(script, sizeof script, "exec %s 8 50", ts_build("fixtures/fx_threads"));
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    threads_all_recorded(argv, 400);
}

/* ------------------------------------------------------------ shim_unusable */

static int count_lines_with(const char *text, const char *needle, const char **first)
{
    int n = 0;
    *first = NULL;
    for (const char *l = text; l && *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)len, l);
        if (strstr(buf, needle)) {
            if (!*first)
                *first = l;
            n++;
        }
        l = end ? end + 1 : NULL;
    }
    return n;
}

/* Runs argv with CHROMEREAPER_SESSION=`session` (unusable): it runs as it
 * would without the shim, and the whole process tree says so once. */
static void check_unusable(char *const argv[], const char *session, int min_children)
{
    const char *err = shx_tmp("stderr");
    pid_t pid = shx_spawn_stderr(argv, session, shx_tmp("stdout"), err);
    int st = shx_wait(pid, 120);
    char *text = ts_slurp(err);
    cr_assert_not_null(text);
    shx_assert_exit0(st, argv[0]);

    const char *first;
    int warnings = count_lines_with(text, "chromereaper:", &first);
    cr_expect_eq(warnings, 1, "expected one \"chromereaper:\" line on stderr, got %d:\n%s", warnings,
                 text);
    if (first)
        cr_expect(strstr(first, "not tracking") != NULL, "warning does not say it is not tracking: %s",
                  first);

    if (min_children > 0) {
        /* the children ran with the shim loaded (and stayed quiet) */
        struct shx_line lines[4];
        int n = shx_read_lines(shx_tmp("out"), lines, 4);
        cr_expect_geq(n, min_children);
        for (int i = 0; i < n; i++) {
            cr_expect_eq(lines[i].preload, 1);
            cr_expect_str_eq(lines[i].session_id, session, "the cookie was rewritten");
        }
    }
    free(text);
}

static void run_launch_unusable(const char *api, const char *session)
{
    char *argv[] = {(char *)ts_build("fixtures/fx_launch"), (char *)api, "normal",
                    (char *)shx_tmp("out"), NULL};
    check_unusable(argv, session, 1);
}

static const char *missing_session(void)
{
    static char id[64];
    snprintf(id, sizeof id, "crtest-%d-missing", (int)getpid());
    registry_unlink((uint32_t)getuid(), id);
    return id;
}

static void assert_no_registry(const char *session)
{
    char path[256];
    cr_assert_eq(registry_path(path, sizeof path, (uint32_t)getuid(), session), 0);
    cr_expect_neq(access(path, F_OK), 0, "%s was created", path);
}

Test(shim_unusable, missing_registry_execve, .init = shx_init, .fini = shx_fini)
{
    shx_tmpdir();
    const char *id = missing_session();
    run_launch_unusable("execve", id);
    assert_no_registry(id);
}

Test(shim_unusable, missing_registry_posix_spawn_nullpid, .init = shx_init, .fini = shx_fini)
{
    shx_tmpdir();
    const char *id = missing_session();
    run_launch_unusable("posix_spawn_nullpid", id);
    assert_no_registry(id);
}

Test(shim_unusable, missing_registry_fork_exec, .init = shx_init, .fini = shx_fini)
{
    shx_tmpdir();
    const char *id = missing_session();
    run_launch_unusable("fork_exec", id);
    assert_no_registry(id);
}

Test(shim_unusable, invalid_session_id, .init = shx_init, .fini = shx_fini)
{
    shx_tmpdir();
    run_launch_unusable("execvp", "../not-a-session");
}

/* 2 x 20 children of /bin/true, each loading the shim: still one line */
Test(shim_unusable, many_processes_warn_once, .init = shx_init, .fini = shx_fini)
{
    shx_tmpdir();
    const char *id = missing_session();
    char *argv[] = {(char *)ts_build("fixtures/fx_threads"), "2", "20", NULL};
    check_unusable(argv, id, 0);
    char *out = ts_slurp(shx_tmp("stdout"));
    cr_assert_not_null(out);
    cr_expect_str_eq(out, "40 0\n");
    free(out);
    assert_no_registry(id);
}

/* A hand-made object at the session's path: not a registry, or not 0600. */
static const char *make_shm(const char *tag, mode_t mode, const void *data, size_t len)
{
    static char id[64];
    snprintf(id, sizeof id, "crtest-%d-%s", (int)getpid(), tag);
    char *path = shx.shm_files[shx.nshm++];
    cr_assert_eq(registry_path(path, sizeof shx.shm_files[0], (uint32_t)getuid(), id), 0);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
    return id;
}

static void assert_file_is(const char *path, const void *data, size_t len, mode_t mode)
{
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "%s disappeared", path);
    cr_expect_eq(sb.st_mode & 07777, mode, "%s: mode changed to %o", path, sb.st_mode & 07777);
    cr_assert_eq((size_t)sb.st_size, len, "%s: size changed", path);
    char *buf = malloc(len);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(read(fd, buf, len), (ssize_t)len);
    close(fd);
    cr_expect_eq(memcmp(buf, data, len), 0, "%s: content was modified", path);
    free(buf);
}

Test(shim_unusable, corrupt_registry_left_alone, .init = shx_init, .fini = shx_fini)
{
    shx_tmpdir();
    static char junk[8192];
    memset(junk, 'x', sizeof junk);
    const char *id = make_shm("corrupt", 0600, junk, sizeof junk);
    run_launch_unusable("posix_spawn", id);
    assert_file_is(shx.shm_files[0], junk, sizeof junk, 0600);
}

Test(shim_unusable, registry_with_wrong_mode_left_alone, .init = shx_init, .fini = shx_fini)
{
    shx_tmpdir();
    /* a valid, empty registry image, but readable by everyone */
    char tmpid[64];
    struct cr_registry reg;
    snprintf(tmpid, sizeof tmpid, "crtest-%d-img", (int)getpid());
    registry_unlink((uint32_t)getuid(), tmpid);
    cr_assert_eq(registry_create(&reg, tmpid, 64, 4), CR_REG_OK);
    size_t len = reg.map_size;
    char *image = malloc(len);
    memcpy(image, reg.hdr, len);
    registry_close(&reg);
    registry_unlink((uint32_t)getuid(), tmpid);
    /* the session name is part of the header: rename the image */
    const char *id = make_shm("mode", 0644, image, len);
    struct cr_registry_header *h = (struct cr_registry_header *)image;
    cr_assert_eq(strcmp(h->session, tmpid), 0);
    snprintf(h->session, sizeof h->session, "%s", id);
    int fd = open(shx.shm_files[0], O_WRONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, image, len, 0), (ssize_t)len);
    close(fd);

    run_launch_unusable("execv", id);
    assert_file_is(shx.shm_files[0], image, len, 0644);
    free(image);
}

/* ------------------------------------------------------------ shim_mkdtemp */

/* fx_mkdtemp through a hard link named "chromium": a browser by its file
 * line.  Its mkdtemp and its --user-data-dir are recorded. */
Test(shim_mkdtemp, browser_records_its_directories, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    const char *browser = shx_tmp("chromium");
    cr_assert_eq(link(ts_build("fixtures/fx_mkdtemp"), browser), 0, "link: %s", strerror(errno));
    char udd[600];
    snprintf(udd, sizeof udd, "--user-data-dir=%s", shx_tmp("profile"));
    char *argv[] = {(char *)browser, shx.tmp, (char *)shx_tmp("out"), udd, NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    shx_assert_exit0(shx_wait(pid, 60), "fx_mkdtemp as chromium");

    char *made = ts_slurp(shx_tmp("out"));
    cr_assert_not_null(made);
    char *nl = strchr(made, '\n');
    if (nl)
        *nl = '\0';
    struct stat sb;
    cr_assert_eq(stat(made, &sb), 0, "%s: %s", made, strerror(errno));

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    struct cr_entry e;
    cr_assert_eq(shx_count(&es, pid, -1, CR_SEEN_CONSTRUCTOR, &e), 1);
    cr_expect_eq(e.role, CR_ROLE_BROWSER, "role %s", role_name((enum cr_role)e.role));
    free(es.e);

    struct cr_registry reg;
    char why[256] = "";
    cr_assert_eq(registry_open(&reg, (uint32_t)getuid(), shx.id, 0, why, sizeof why), CR_REG_OK, "%s",
                 why);
    int mk = 0, ud = 0;
    for (uint32_t i = 0; i < registry_dir_count(&reg); i++) {
        struct cr_dir d;
        if (!registry_dir_read(&reg, i, &d))
            continue;
        cr_expect_eq(d.pid, pid);
        cr_expect_eq(d.start_time, e.start_time, "directory recorded with another start time");
        if (d.origin == CR_DIR_MKDTEMP) {
            mk++;
            cr_expect_str_eq(d.path, made);
            cr_expect_eq(d.dev, (uint64_t)sb.st_dev);
            cr_expect_eq(d.ino, (uint64_t)sb.st_ino);
            cr_expect_eq(d.flags & CR_DIR_ABSENT_AT_LAUNCH, 0u);
        } else if (d.origin == CR_DIR_USER_DATA_DIR) {
            ud++;
            cr_expect_str_eq(d.path, shx_tmp("profile"));
            cr_expect_neq(d.flags & CR_DIR_ABSENT_AT_LAUNCH, 0u, "profile did not exist at launch");
        }
    }
    registry_close(&reg);
    cr_expect_eq(mk, 1, "mkdtemp records: %d", mk);
    cr_expect_eq(ud, 1, "--user-data-dir records: %d", ud);
    free(made);
}

/* The same program under its own name is not the browser: nothing of its
 * is ours to delete. */
Test(shim_mkdtemp, other_program_records_nothing, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char udd[600];
    snprintf(udd, sizeof udd, "--user-data-dir=%s", shx_tmp("profile"));
    char *argv[] = {(char *)ts_build("fixtures/fx_mkdtemp"), shx.tmp, (char *)shx_tmp("out"), udd,
                    NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    shx_assert_exit0(shx_wait(pid, 60), "fx_mkdtemp");
    cr_assert_eq(ts_wait_file(shx_tmp("out"), 1), 0, "fx_mkdtemp made no directory");

    struct cr_registry reg;
    char why[256] = "";
    cr_assert_eq(registry_open(&reg, (uint32_t)getuid(), shx.id, 0, why, sizeof why), CR_REG_OK, "%s",
                 why);
    int dirs = 0;
    for (uint32_t i = 0; i < registry_dir_count(&reg); i++) {
        struct cr_dir d;
        dirs += registry_dir_read(&reg, i, &d);
    }
    registry_close(&reg);
    cr_expect_eq(dirs, 0, "%d directories recorded for a non-browser", dirs);

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    struct cr_entry e;
    cr_expect_eq(shx_count(&es, pid, -1, CR_SEEN_CONSTRUCTOR, &e), 1, "the shim was not loaded");
    cr_expect_eq(e.role, CR_ROLE_OTHER);
    free(es.e);
}

/* What automation libraries make for a browser in the bot's own process
 * (Node's fs.mkdtemp calls mkdtemp(3): Playwright's artifacts directory,
 * which is never on any command line, Puppeteer's profile) is recorded,
 * with its identity; the bot's other temp dirs are not. */
Test(shim_mkdtemp, a_non_browser_records_only_automation_library_names, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    const char *const names[] = {"playwright-artifacts-XXXXXX", "puppeteer_dev_chrome_profile-XXXXXX",
                                 "bot-output-XXXXXX"};
    char made[3][600];
    for (int i = 0; i < 3; i++) {
        char tmpl[600], out[600];
        snprintf(tmpl, sizeof tmpl, "%s/%s", shx.tmp, names[i]);
        snprintf(out, sizeof out, "%s", shx_tmp(names[i]));
        char *argv[] = {(char *)ts_build("fixtures/fx_mkdtemp"), tmpl, out, NULL};
        pid_t pid = shx_spawn(argv, shx.id, NULL);
        shx_assert_exit0(shx_wait(pid, 60), names[i]);
        char *text = ts_slurp(out);
        cr_assert_not_null(text);
        text[strcspn(text, "\n")] = '\0';
        snprintf(made[i], sizeof made[i], "%s", text);
        free(text);
    }
    struct cr_registry reg;
    char why[256] = "";
    cr_assert_eq(registry_open(&reg, (uint32_t)getuid(), shx.id, 0, why, sizeof why), CR_REG_OK, "%s",
                 why);
    int seen[3] = {0};
    for (uint32_t i = 0; i < registry_dir_count(&reg); i++) {
        struct cr_dir d;
        if (!registry_dir_read(&reg, i, &d))
            continue;
        for (int k = 0; k < 3; k++) {
            if (strcmp(d.path, made[k]) != 0)
                continue;
            seen[k]++;
            struct stat sb;
            cr_assert_eq(stat(made[k], &sb), 0);
            cr_expect_eq(d.origin, CR_DIR_MKDTEMP);
            cr_expect_eq(d.dev, (uint64_t)sb.st_dev);
            cr_expect_eq(d.ino, (uint64_t)sb.st_ino);
        }
    }
    registry_close(&reg);
    cr_expect_eq(seen[0], 1, "playwright-artifacts-*: %d records", seen[0]);
    cr_expect_eq(seen[1], 1, "puppeteer_dev_chrome_profile-*: %d records", seen[1]);
    cr_expect_eq(seen[2], 0, "the bot's own directory was recorded");
}

/* ------------------------------------------------------------ shim_early */

/* fork() and mkdtemp() from .preinit_array, before the shim's constructor
 * ran (a DT_NEEDED library's constructor is in the same position): the
 * program must work as without the shim. */
Test(shim_early, wrappers_called_before_the_constructor, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    char *argv[] = {(char *)ts_build("fixtures/fx_preinit"), NULL};

    pid_t plain = shx_spawn(argv, NULL, NULL);
    shx_assert_exit0(shx_wait(plain, 60), "fx_preinit without the shim");

    pid_t pid = shx_spawn(argv, shx.id, NULL);
    shx_assert_exit0(shx_wait(pid, 60), "fx_preinit under the shim");
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(shx_count(&es, pid, -1, CR_SEEN_CONSTRUCTOR, NULL), 1);
    /* main's fork, after the constructor, is seen */
    cr_expect_geq(shx_count(&es, 0, pid, CR_SEEN_FORK, NULL), 1);
    free(es.e);
}

/* ------------------------------------------------------------ shim_identity */

/* Field 22 of /proc/<pid>/stat, parsed here independently of lib/procfs. */
static unsigned long long kernel_start_time(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *text = ts_slurp(path);
    cr_assert_not_null(text, "%s unreadable", path);
    char *p = strrchr(text, ')');
    cr_assert_not_null(p);
    unsigned long long v = 0;
    /* after ") ": field 3 (state) ... field 22 */
    char *save = NULL;
    int field = 3;
    for (char *tok = strtok_r(p + 2, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++)
        if (field == 22) {
            v = strtoull(tok, NULL, 10);
            break;
        }
    free(text);
    cr_assert_eq(field, 22, "short stat line for %d", (int)pid);
    return v;
}

/* The start time is what makes a recorded pid safe to signal later (PID
 * reuse): it must be the kernel's, not a placeholder. */
Test(shim_identity, constructor_records_the_kernel_start_time, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char *argv[] = {(char *)ts_build("fixtures/fx_child"), (char *)shx_tmp("out"), "sleep", NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    cr_assert_eq(ts_wait_file(shx_tmp("out"), 30), 0, "fx_child did not report");
    cr_assert(ts_alive(pid));
    unsigned long long want = kernel_start_time(pid);
    cr_assert_gt(want, 0ull);

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    struct cr_entry e;
    cr_assert_eq(shx_count(&es, pid, getpid(), CR_SEEN_CONSTRUCTOR, &e), 1);
    cr_expect_eq((unsigned long long)e.start_time, want,
                 "recorded start time %llu, /proc/%d/stat says %llu",
                 (unsigned long long)e.start_time, (int)pid, want);
    free(es.e);
}

/* The records of forks and execs carry the kernel's start time, whether
 * the shim bracketed it between two CLOCK_BOOTTIME readings or read it
 * from /proc: checked against /proc for a tree of 60 live processes
 * (forks, and execs whose new image adopted the exec wrapper's record). */
Test(shim_identity, fork_and_exec_records_carry_the_kernel_start_time, .init = shx_init,
     .fini = shx_fini)
{
    shx_tmpdir();
    snprintf(shx.id, sizeof shx.id, "crtest-%d-tree", (int)getpid());
    registry_unlink((uint32_t)getuid(), shx.id);
    shx.have_session = 1;
    /* the tree's root makes a Chrome temp directory under $TMPDIR: in
     * ours, which shx_fini removes (this test reaps nothing) */
    setenv("TMPDIR", shx.tmp, 1);
    char *argv[] = {(char *)ts_build("fixtures/bench_tree"), "tree", "60", shx.id,
                    (char *)shx_tmp("pids"), (char *)ts_build("libchromereaper.so"), NULL};
    shx_assert_exit0(shx_wait(shx_spawn(argv, NULL, NULL), 120), "bench_tree");

    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    int forks = 0, execs = 0, wrong = 0;
    for (int i = 0; i < es.n; i++) {
        const struct cr_entry *e = &es.e[i];
        if (e->seen_by != CR_SEEN_FORK && e->seen_by != CR_SEEN_EXEC)
            continue;
        forks += e->seen_by == CR_SEEN_FORK;
        execs += e->seen_by == CR_SEEN_EXEC;
        unsigned long long want = kernel_start_time(e->pid);
        if (want != e->start_time) {
            wrong++;
            cr_log_error("%s record of %d: start time %llu, /proc says %llu",
                         e->seen_by == CR_SEEN_FORK ? "fork" : "exec", (int)e->pid,
                         (unsigned long long)e->start_time, want);
        }
    }
    cr_expect_eq(forks, 59, "%d fork records", forks);
    cr_expect_eq(execs, 5, "%d exec records", execs);
    /* the root, which the unshimmed launcher exec'd, recorded itself; an
     * exec'd node's image adopts its exec record when it finds it among
     * the last appends (with 60 processes appending at once it may not:
     * then it records itself too, with the same start time, checked) */
    int roots = 0;
    for (int i = 0; i < es.n; i++) {
        const struct cr_entry *e = &es.e[i];
        if (e->seen_by != CR_SEEN_CONSTRUCTOR)
            continue;
        roots += shx_count(&es, e->pid, -1, CR_SEEN_EXEC, NULL) == 0;
        if (kernel_start_time(e->pid) != e->start_time)
            wrong++;
    }
    cr_expect_eq(roots, 1, "%d processes recorded only by their constructor", roots);
    cr_expect_eq(wrong, 0, "%d records with a start time that is not the kernel's", wrong);
    free(es.e);
}

/* An exec that failed leaves an exec record (and an exec-failed one): a
 * program this process then runs by a raw execve, unseen, records itself
 * instead of taking the failed exec's record for its own. */
Test(shim_identity, an_image_after_a_failed_exec_records_itself, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char *argv[] = {(char *)ts_build("fixtures/fx_exec_retry"), (char *)ts_build("fixtures/fx_child"),
                    (char *)shx_tmp("out"), NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    shx_assert_exit0(shx_wait(pid, 60), "fx_exec_retry");
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    cr_expect_eq(shx_count(&es, pid, -1, CR_SEEN_EXEC, NULL), 1);
    cr_expect_eq(shx_count(&es, pid, -1, CR_SEEN_EXEC_FAILED, NULL), 1);
    /* fx_exec_retry's own constructor record, then fx_child's */
    int child_own = 0;
    for (int i = 0; i < es.n; i++)
        child_own += es.e[i].pid == pid && es.e[i].seen_by == CR_SEEN_CONSTRUCTOR &&
                     shx_ends_with(es.e[i].exe, "/fx_child");
    cr_expect_eq(child_own, 1, "fx_child, exec'd unseen after a failed exec, did not record itself");
    free(es.e);
}

/* A new image that its exec wrapper recorded reads its record without
 * mapping the registry (most such programs never fork or exec), and maps
 * it when it first starts a child, which is recorded as before: here a
 * shell exec'd by a shell copies its own mappings with builtins (no
 * fork), then runs /bin/true, then copies them again. */
Test(shim_identity, a_recorded_image_maps_the_registry_only_to_record, .init = shx_init,
     .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char script[600];
    snprintf(script, sizeof script,
             "exec /bin/sh -c 'while read l; do echo \"$l\"; done < /proc/$$/maps > %s; /bin/true; "
             "while read l; do echo \"$l\"; done < /proc/$$/maps > %s'",
             shx_tmp("before"), shx_tmp("after"));
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    pid_t pid = shx_spawn(argv, shx.id, NULL);
    shx_assert_exit0(shx_wait(pid, 60), "sh");
    char *before = ts_slurp(shx_tmp("before")), *after = ts_slurp(shx_tmp("after"));
    cr_assert(before && after);
    const char *file = ts_registry_file((uint32_t)getuid(), shx.id);
    cr_expect_null(strstr(before, file), "mapped before it recorded anything: %s", before);
    cr_expect_not_null(strstr(after, file), "not mapped after it recorded a child: %s", after);
    struct shx_entries es;
    shx_read_entries(shx.id, &es);
    /* the outer shell recorded itself (nothing tracked started it); the
     * inner one adopted its exec record */
    cr_expect_eq(shx_count(&es, pid, -1, CR_SEEN_EXEC, NULL), 1);
    cr_expect_eq(shx_count(&es, pid, -1, CR_SEEN_CONSTRUCTOR, NULL), 1, "the inner shell recorded itself");
    int trues = 0;
    for (int i = 0; i < es.n; i++)
        trues += es.e[i].ppid == pid && es.e[i].seen_by == CR_SEEN_EXEC &&
                 strcmp(es.e[i].exe, "/bin/true") == 0;
    cr_expect_eq(trues, 1, "/bin/true was not recorded");
    free(before);
    free(after);
    free(es.e);
}

/* A browser's process maps the registry as it starts, even one that its
 * exec wrapper recorded and that has not forked yet: its sandbox may close
 * the path before it does (a zygote chroots to an empty directory). */
Test(shim_identity, a_browser_process_maps_the_registry_at_start, .init = shx_init, .fini = shx_fini)
{
    shx_session();
    shx_tmpdir();
    char *argv[] = {(char *)ts_build("fixtures/fake_chromium"), "zygote", shx.tmp, NULL};
    pid_t root = shx_spawn(argv, shx.id, NULL);
    cr_assert_eq(ts_wait_file(shx_tmp("ready"), 30), 0, "the fixture browser never got ready");
    /* the fixture makes its directory in /tmp whatever TMPDIR says, and
     * nothing here reaps: removed at once, it is not needed */
    char *made = ts_slurp(shx_tmp("dir"));
    if (made && strncmp(made, "/tmp/org.chromium.Chromium.crtest.", 34) == 0)
        ts_rm_rf(made);
    free(made);
    pid_t tree[64], zygote = 0;
    int n = ts_descendants(root, tree, 64);
    for (int i = 0; i < n && !zygote; i++) {
        char cmdline[512];
        size_t len = 0;
        if (proc_file_read(tree[i], "cmdline", cmdline, sizeof cmdline, &len) == 0 &&
            memmem(cmdline, len, "--type=zygote", 13))
            zygote = tree[i];
    }
    cr_assert_gt(zygote, 0, "no zygote among the fixture's %d processes", n);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)zygote);
    char *maps = ts_slurp(path);
    cr_assert_not_null(maps);
    const char *file = ts_registry_file((uint32_t)getuid(), shx.id);
    int writable = 0;
    for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n"))
        writable += strstr(line, file) && strstr(line, " rw-s ");
    cr_expect_eq(writable, 1, "the zygote, which has not forked, does not map the registry");
    free(maps);
}
