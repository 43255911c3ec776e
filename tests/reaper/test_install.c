/* chromereaper installed like a system tool: `make install` into a staging
 * DESTDIR, the fixture browser run through the staged copy in both modes
 * with no CHROMEREAPER_* variable set and from another directory, and
 * `make uninstall` leaving nothing behind (and no directory it did not
 * make removed); and a library preloaded through
 * a symlink still finding its watchdog. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "registry.h"
#include "support.h"

#define MAX_PIDS 16
#define BOUND_TICKS 1000 /* of 20 ms: an upper bound only */

static char workdir[256], outdir[300], session[64];
static pid_t bot = -1;
static pid_t pids[MAX_PIDS];
static int npids;
static char made_dir[512];

static void setup(void)
{
    ts_tmpdir(workdir, sizeof workdir, "install");
    snprintf(outdir, sizeof outdir, "%s/out", workdir);
    cr_assert_eq(mkdir(outdir, 0700), 0);
    session[0] = made_dir[0] = '\0';
    npids = 0;
    /* "no variable set": the staged copies must find each other alone */
    unsetenv("CHROMEREAPER_LIBRARY");
    unsetenv("CHROMEREAPER_REAPER");
    unsetenv("CHROMEREAPER_SESSION");
}

static void teardown(void)
{
    ts_cleanup_fixture(session, pids, npids, bot, made_dir);
    ts_rm_rf(workdir);
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 180);
/* examples/systemd and examples/container, checked against what they name */
TestSuite(examples, .init = setup, .fini = teardown, .timeout = 180);

static int session_clean(pid_t watchdog)
{
    return ts_fixture_gone(session, pids, npids, made_dir) && (watchdog <= 0 || !ts_alive(watchdog));
}

static void assert_session_clean(void)
{
    for (int i = 0; i < npids; i++)
        cr_assert_not(ts_alive(pids[i]), "pid %d survived", pids[i]);
    struct stat st;
    cr_assert_neq(stat(made_dir, &st), 0, "%s was not removed", made_dir);
    char shm[128];
    registry_path(shm, sizeof shm, (uint32_t)getuid(), session);
    cr_assert_neq(stat(shm, &st), 0, "the registry %s was left behind", shm);
}

/* Preload mode through `library`: a shell (the session's root) in `/` runs
 * the fixture browser; the watchdog it starts must be `want_reaper`, and
 * when the shell's process group is SIGKILLed it must reap everything. */
static void preload_bot_is_reaped(const char *library, const char *want_reaper)
{
    char script[1200], log[400];
    snprintf(script, sizeof script, "cd / && %s browser %s & wait", ts_build("fixtures/fake_chromium"), outdir);
    snprintf(log, sizeof log, "%s/bot.log", workdir);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    setenv("LD_PRELOAD", library, 1);
    bot = ts_spawn(argv, NULL, log);
    unsetenv("LD_PRELOAD");
    npids = ts_fixture_ready(outdir, pids, MAX_PIDS, made_dir, sizeof made_dir);
    cr_assert_eq(npids, 5);
    cr_assert_eq(tb_session_of_root(bot, session, sizeof session), 0, "no session for the shell");

    pid_t w = ts_wait_watchdog(session, 10);
    char *said = ts_slurp(log);
    cr_assert_gt(w, 0, "no watchdog; the bot said: %s", said ? said : "");
    free(said);
    char exe_link[64], exe[PATH_MAX], want[PATH_MAX];
    snprintf(exe_link, sizeof exe_link, "/proc/%d/exe", (int)w);
    ssize_t n = readlink(exe_link, exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    cr_assert_not_null(realpath(want_reaper, want));
    cr_assert_str_eq(exe, want, "the watchdog is %s, not %s", exe, want);

    cr_assert_eq(kill(-bot, SIGKILL), 0);
    ts_waitpid(bot, 10);
    bot = -1;
    for (int i = 0; i < BOUND_TICKS && !session_clean(w); i++)
        usleep(20000);
    assert_session_clean();
    cr_assert_not(ts_alive(w), "the watchdog did not exit after the reap");
    session[0] = '\0';
}

Test(install, preload_through_a_symlink_finds_the_watchdog)
{
    char link[400];
    snprintf(link, sizeof link, "%s/libchromereaper.so", workdir);
    cr_assert_eq(symlink(ts_build("libchromereaper.so"), link), 0);
    preload_bot_is_reaped(link, ts_build("chromereaper"));
}

/* Installed under DESTDIR with PREFIX, as a package build would. */
#define STAGE_PREFIX "/opt/chromereaper"
static const char *const installed[] = {
    "bin/chromereaper",
    "lib/chromereaper/libchromereaper.so",
    "share/man/man1/chromereaper.1",
    "share/man/man7/libchromereaper.7",
    "share/bash-completion/completions/chromereaper",
};

static int make_target(const char *target, const char *stage)
{
    char *out = NULL, destdir[400];
    snprintf(destdir, sizeof destdir, "DESTDIR=%s", stage);
    /* a make of our own, not a sub-make of the one running the suite */
    char *argv[] = {"env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS", "make", "-s", "-C", (char *)ts_source("."), "BUILD=" CR_BUILD_DIR, destdir,
                    "PREFIX=" STAGE_PREFIX, (char *)target, NULL};
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 0, "make %s: %s", target, out);
    free(out);
    return rc;
}

static void staged(char *buf, size_t len, const char *stage, const char *rel)
{
    snprintf(buf, len, "%s" STAGE_PREFIX "/%s", stage, rel);
}

/* `chromereaper run` of the staged copy, from `/`: the fixture browser
 * leaves everything behind and exits 7; all of it is reaped. */
static void run_mode_reaps(const char *stage)
{
    char bin[400], log[400];
    staged(bin, sizeof bin, stage, "bin/chromereaper");
    snprintf(session, sizeof session, "crtest-install-%d", (int)getpid());
    snprintf(log, sizeof log, "%s/run.log", workdir);
    char *argv[] = {"/bin/sh", "-c", "cd / && exec \"$0\" run --session \"$1\" --grace 0.3 -- \"$2\" leave \"$3\"",
                    bin, session, (char *)ts_build("fixtures/fake_chromium"), outdir, NULL};
    pid_t run = ts_spawn(argv, NULL, log);
    int st = ts_waitpid(run, 60);
    char *said = ts_slurp(log);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 7, "run exited with %#x: %s", st, said);
    npids = ts_fixture_ready(outdir, pids, MAX_PIDS, made_dir, sizeof made_dir);
    cr_assert_eq(npids, 5, "%s", said);
    assert_session_clean();
    free(said);
    session[0] = '\0';
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

Test(install, staged_copy_works_in_both_modes_and_uninstall_leaves_nothing)
{
    char stage[300], path[600];
    snprintf(stage, sizeof stage, "%s/stage", workdir);
    cr_assert_eq(mkdir(stage, 0755), 0);
    /* a directory that was there before: uninstall must leave it */
    char opt[400];
    snprintf(opt, sizeof opt, "%s/opt", stage);
    cr_assert_eq(mkdir(opt, 0755), 0);
    make_target("install", stage);
    for (size_t i = 0; i < sizeof installed / sizeof installed[0]; i++) {
        struct stat st;
        staged(path, sizeof path, stage, installed[i]);
        cr_assert_eq(stat(path, &st), 0, "make install did not install %s", path);
    }

    run_mode_reaps(stage);

    /* preload mode: the staged library starts the staged watchdog */
    char library[600], reaper[600];
    staged(library, sizeof library, stage, "lib/chromereaper/libchromereaper.so");
    staged(reaper, sizeof reaper, stage, "bin/chromereaper");
    ts_rm_rf(outdir);
    cr_assert_eq(mkdir(outdir, 0700), 0);
    preload_bot_is_reaped(library, reaper);

    make_target("uninstall", stage);
    cr_assert_eq(count_entries(opt), 0, "make uninstall left something in %s", opt);
    cr_assert_eq(count_entries(stage), 1, "make uninstall removed %s, which it did not make", opt);
}

/* `value` of the first "KEY<sep>N" in text (e.g. "--grace ", "TimeoutStopSec="). */
static double number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    cr_assert_not_null(p, "no %s", key);
    return strtod(p + strlen(key), NULL);
}

/* examples/systemd/: `systemd-analyze verify` (offline: no running systemd
 * needed) says nothing against the staged installed copy, whose binary the
 * units start and whose man page they name; and the stop timeout leaves
 * `run` time for the bot's grace and the reap's. */
Test(examples, systemd_units_verify_against_the_installed_copy)
{
    char stage[300], units[300], bin[600];
    snprintf(stage, sizeof stage, "%s/stage", workdir);
    snprintf(units, sizeof units, "%s/units", workdir);
    cr_assert_eq(mkdir(stage, 0755), 0);
    cr_assert_eq(mkdir(units, 0755), 0);
    make_target("install", stage);
    staged(bin, sizeof bin, stage, "bin/chromereaper");
    static const char *const files[] = {"selenium-bot.service", "chromereaper-cleanup.service",
                                        "chromereaper-cleanup.timer"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char src[300], dst[400];
        snprintf(src, sizeof src, "examples/systemd/%s", files[i]);
        snprintf(dst, sizeof dst, "%s/%s", units, files[i]);
        char *text = ts_slurp(ts_source(src));
        cr_assert_not_null(text, "%s", src);
        FILE *f = fopen(dst, "w");
        cr_assert_not_null(f);
        for (const char *p = text; *p;) {
            const char *hit = strstr(p, "/usr/local/bin/chromereaper");
            size_t n = hit ? (size_t)(hit - p) : strlen(p);
            fwrite(p, 1, n, f);
            if (!hit)
                break;
            fputs(bin, f);
            p = hit + strlen("/usr/local/bin/chromereaper");
        }
        fclose(f);
        if (strcmp(files[i], "selenium-bot.service") == 0) {
            cr_assert(strstr(text, "KillMode=mixed"), "systemd would SIGTERM Chrome before run reaps");
            double grace = number_after(text, "--grace "), stop = number_after(text, "TimeoutStopSec=");
            cr_assert_gt(stop, 2 * grace, "TimeoutStopSec=%g leaves no time for the bot's grace and the reap's", stop);
        }
        free(text);
    }
    char man[600], script[1400];
    staged(man, sizeof man, stage, "share/man");
    snprintf(script, sizeof script, "cd \"$0\" && MANPATH=\"$1\" systemd-analyze verify %s %s %s", files[0], files[1],
             files[2]);
    char *argv[] = {"/bin/sh", "-c", script, units, man, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    cr_assert_eq(rc, 0, "systemd-analyze verify: %s", out);
    cr_assert_str_eq(out, "", "systemd-analyze verify: %s", out);
    free(out);
}

/* The manifest checker (examples/container/check: the Kubernetes JSON
 * schemas and the API's generated types, offline) on `file`. */
static int check_manifest(const char *file, char **out)
{
    char *argv[] = {"node", (char *)ts_source("examples/container/check/check-manifest.mjs"), (char *)file, NULL};
    return ts_run(argv, out);
}

Test(examples, kubernetes_manifest_passes_the_offline_schema_check)
{
    char *out = NULL;
    int rc = check_manifest(ts_source("examples/container/bot-fleet.yaml"), &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_not_null(strstr(out, "ok: "), "%s", out);
    free(out);
}

/* The checker is no rubber stamp: a misspelt field, which the JSON schema
 * alone lets through, and a wrong type are each refused. */
Test(examples, the_manifest_check_refuses_a_typo_and_a_wrong_type)
{
    char *text = ts_slurp(ts_source("examples/container/bot-fleet.yaml"));
    cr_assert_not_null(text);
    static const struct {
        const char *from, *to, *said;
    } breaks[] = {
        {"terminationGracePeriodSeconds:", "terminationGracePeriodSecond:", "terminationGracePeriodSecond"},
        {"replicas: 3", "replicas: three", "replicas must be integer"},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        char *at = strstr(text, breaks[i].from), path[400];
        cr_assert_not_null(at, "%s", breaks[i].from);
        snprintf(path, sizeof path, "%s/broken-%zu.yaml", workdir, i);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fprintf(f, "%.*s%s%s", (int)(at - text), text, breaks[i].to, at + strlen(breaks[i].from));
        fclose(f);
        char *out = NULL;
        cr_assert_eq(check_manifest(path, &out), 1, "accepted %s: %s", breaks[i].to, out);
        cr_assert_not_null(strstr(out, breaks[i].said), "%s", out);
        free(out);
    }
    free(text);
}

/* What the manifest and the Dockerfile promise each other and the issue:
 * the bot under `run` as PID 1, a preStop that reaps, a grace period that
 * covers the preStop reap, the bot's grace and the final reap, a
 * memory-backed /dev/shm; an image whose entrypoint is `run --`, built from
 * files that exist, with the bot where the manifest runs it. */
Test(examples, container_manifest_and_dockerfile_agree)
{
    char *yaml = ts_slurp(ts_source("examples/container/bot-fleet.yaml"));
    char *docker = ts_slurp(ts_source("examples/container/Dockerfile"));
    cr_assert(yaml && docker);
    cr_assert_not_null(strstr(yaml, "kind: Deployment"));
    cr_assert_not_null(strstr(yaml, "command: [\"chromereaper\", \"run\", \"--grace\", "), "the bot is not under run");
    const char *prestop = strstr(yaml, "preStop:");
    cr_assert_not_null(prestop);
    cr_assert_not_null(strstr(prestop, "[\"chromereaper\", \"reap\", \"--all\", \"--grace\", "), "no preStop reap");
    double run_grace = number_after(yaml, "\"run\", \"--grace\", \"");
    double stop_grace = number_after(prestop, "\"--grace\", \"");
    double period = number_after(yaml, "terminationGracePeriodSeconds: ");
    cr_assert_gt(period, stop_grace + 2 * run_grace, "terminationGracePeriodSeconds %g < preStop %g + 2 x %g",
                 period, stop_grace, run_grace);
    const char *shm = strstr(yaml, "mountPath: /dev/shm");
    cr_assert_not_null(shm, "no /dev/shm volume");
    cr_assert_not_null(strstr(yaml, "medium: Memory"), "/dev/shm is not memory-backed");

    cr_assert_not_null(strstr(docker, "\nENTRYPOINT [\"chromereaper\", \"run\", \"--\"]\n"));
    cr_assert_not_null(strstr(docker, "\nFROM debian:"));
    cr_assert_not_null(strstr(docker, "chromium chromium-driver python3-selenium"));
    int copies = 0;
    for (const char *p = strstr(docker, "\nCOPY "); p; p = strstr(p + 1, "\nCOPY ")) {
        char src[256], dst[256];
        if (strncmp(p, "\nCOPY --from=", 13) == 0)
            continue;
        cr_assert_eq(sscanf(p, "\nCOPY %255s %255s", src, dst), 2);
        struct stat st;
        cr_assert_eq(stat(ts_source(src), &st), 0, "the Dockerfile copies %s, which does not exist", src);
        if (strcmp(src, "examples/selenium_bot.py") == 0) {
            char args[300];
            snprintf(args, sizeof args, "\"/usr/bin/python3\", \"%s\"", dst);
            cr_assert_not_null(strstr(yaml, args), "the manifest does not run the bot at %s", dst);
        }
        copies++;
    }
    cr_assert_geq(copies, 5);
    char image[128];
    const char *img = strstr(yaml, "image: ");
    cr_assert(img && sscanf(img, "image: %127[^:\n]", image) == 1);
    cr_assert_not_null(strstr(docker, image), "the Dockerfile does not build %s", image);
    free(yaml);
    free(docker);
}

/* No Docker engine here, so the Dockerfile's build stage is replayed by
 * hand: only the files its COPY lines bring into WORKDIR, then its `RUN
 * make` line with /staging moved into the test's directory.  What the
 * final stage copies from /staging/usr/local must then be a working
 * installation (a COPY the build needs and the Dockerfile forgot fails). */
Test(examples, dockerfile_build_stage_builds_from_what_it_copies)
{
    char *docker = ts_slurp(ts_source("examples/container/Dockerfile"));
    cr_assert_not_null(docker);
    const char *stage = strstr(docker, "\nFROM ");
    const char *stage_end = stage ? strstr(stage + 1, "\nFROM ") : NULL;
    cr_assert_not_null(stage_end, "no build stage followed by a final one");
    char src[400], staging[400];
    snprintf(src, sizeof src, "%s/src", workdir);
    snprintf(staging, sizeof staging, "%s/staging", workdir);
    cr_assert_eq(mkdir(src, 0755), 0);
    char script[8192] = "set -e\n";
    size_t len = strlen(script);
    const char *run = NULL;
    for (const char *p = stage; p && p < stage_end; p = strchr(p + 1, '\n')) {
        char from[256], to[256];
        if (sscanf(p, "\nCOPY %255s %255s", from, to) == 2)
            len += (size_t)snprintf(script + len, sizeof script - len,
                                    "mkdir -p \"$0/$(dirname '%s')\" && cp -r '%s/%s' \"$0/%s\"\n", to,
                                    ts_source("."), from, to);
        else if (strncmp(p, "\nRUN make ", 10) == 0)
            run = p + 5;
    }
    cr_assert_not_null(run, "no RUN make in the build stage");
    const char *eol = strchr(run, '\n'), *at = strstr(run, "/staging");
    cr_assert(at && at < eol, "the build does not install into /staging");
    len += (size_t)snprintf(script + len, sizeof script - len, "cd \"$0\" && %.*s\"$1\"%.*s\n", (int)(at - run),
                            run, (int)(eol - at - 8), at + 8);
    cr_assert_lt(len, sizeof script);
    char *argv[] = {"env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS", "/bin/sh", "-c", script, src, staging, NULL};
    char *out = NULL;
    cr_assert_eq(ts_run(argv, &out), 0, "the build stage failed:\n%s\n%s", script, out);
    free(out);

    char bin[600];
    snprintf(bin, sizeof bin, "%s/usr/local/bin/chromereaper", staging);
    char *version[] = {bin, "--version", NULL};
    cr_assert_eq(ts_run(version, &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "chromereaper "), "%s", out);
    free(out);
    struct stat st;
    char lib[600];
    snprintf(lib, sizeof lib, "%s/usr/local/lib/chromereaper/libchromereaper.so", staging);
    cr_assert_eq(stat(lib, &st), 0, "the image would have no library");
    free(docker);
}
