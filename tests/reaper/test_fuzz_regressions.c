/* Replays the fuzz inputs that matter (fuzz/regressions/: inputs that once
 * crashed or misled the reaper, and fuzz/corpus/: the seeds) through the
 * real CLI: each becomes a registry file exactly as the harness makes it
 * (fuzz/fuzz_image.h, without helper processes), and `reap --dry-run`,
 * `ls --tree` and `ls --json` must each exit 0, 1 or 3 (never crash, never a
 * usage error); a refusal (3) is one line. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../fuzz/fuzz_image.h"
#include "registry.h"
#include "support.h"

static char current[128]; /* the registry file of the input being replayed */

static void teardown(void)
{
    if (current[0])
        unlink(current);
    current[0] = '\0';
}

TestSuite(fuzz_regressions, .fini = teardown, .timeout = 120);

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Newline-terminated lines in out; -1 if the last one is not. */
static int lines(const char *out)
{
    int n = 0;
    for (const char *p = out; p && *p; n++) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            return -1;
        p = nl + 1;
    }
    return n;
}

static void replay(const char *file, int n)
{
    char id[64];
    snprintf(id, sizeof id, "crtest-fuzzreg-%d-%d", (int)getpid(), n);
    uint32_t uid = (uint32_t)getuid();
    size_t size, isize;
    unsigned char *data = slurp(file, &size);
    unsigned char *img = fuzz_image(data, size, uid, id, NULL, &isize);
    free(data);
    cr_assert_not_null(img);
    cr_assert_eq(registry_path(current, sizeof current, uid, id), 0);
    unlink(current);
    int fd = open(current, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "%s: %s", current, strerror(errno));
    cr_assert_eq(fchmod(fd, 0600), 0);
    cr_assert_eq(write(fd, img, isize), (ssize_t)isize);
    close(fd);
    free(img);

    static const char *const cmds[][3] = {{"reap", "--dry-run", "--json"}, {"ls", "--tree", NULL},
                                          {"ls", "--json", NULL}};
    for (size_t c = 0; c < sizeof cmds / sizeof *cmds; c++) {
        char *argv[8] = {(char *)ts_build("chromereaper"), (char *)cmds[c][0], "--session", id,
                         (char *)cmds[c][1], (char *)cmds[c][2], NULL};
        char *out = NULL;
        int rc = ts_run(argv, &out);
        cr_expect(rc == 0 || rc == 1 || rc == 3, "%s: %s %s exited %d: %s", file, cmds[c][0],
                  cmds[c][1], rc, out);
        /* one line says why; with --json, one {"session","error"} object too */
        int json = strcmp(cmds[c][1], "--json") == 0 || (cmds[c][2] && strcmp(cmds[c][2], "--json") == 0);
        if (rc == 3)
            cr_expect(lines(out) == 1 + json && (!json || strstr(out, "{\"session\":")),
                      "%s: %s refused in more than one line: %s", file, cmds[c][0], out);
        free(out);
    }
    teardown();
}

static void replay_dir(const char *rel, int need)
{
    char dir[3072]; /* ts_source's buffer is reused by later ts_build calls */
    snprintf(dir, sizeof dir, "%s", ts_source(rel));
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        replay(path, n++);
    }
    closedir(d);
    cr_assert_geq(n, need, "%s holds %d inputs", dir, n);
}

Test(fuzz_regressions, regressions) { replay_dir("fuzz/regressions", 1); }
Test(fuzz_regressions, seed_corpus) { replay_dir("fuzz/corpus", 5); }
