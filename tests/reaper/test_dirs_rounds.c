/* A directory path can come back in a later driver round: what an earlier
 * reap settled about it must not decide the later one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "support.h"

static char session[64], outdir[256];
static struct cr_registry reg;

static void setup(void)
{
    ts_session_create(session, sizeof session, &reg);
    ts_tmpdir(outdir, sizeof outdir, "dirs-rounds");
    ts_after_birth_of(ts_registry_file((uint32_t)getuid(), session), outdir);
}

static void teardown(void)
{
    if (reg.hdr)
        registry_close(&reg);
    ts_session_remove(session);
    ts_rm_rf(outdir);
}

TestSuite(dirs_rounds, .init = setup, .fini = teardown, .timeout = 60);

static int64_t record_profile(const char *path, int absent)
{
    struct cr_dir d;
    memset(&d, 0, sizeof d);
    d.pid = getpid();
    d.origin = CR_DIR_USER_DATA_DIR;
    struct stat st;
    if (absent) {
        d.flags = CR_DIR_ABSENT_AT_LAUNCH;
    } else {
        cr_assert_eq(stat(path, &st), 0);
        d.dev = st.st_dev;
        d.ino = st.st_ino;
    }
    snprintf(d.path, sizeof d.path, "%s", path);
    int64_t slot = registry_append_dir(&reg, &d);
    cr_assert_geq(slot, 0);
    return slot;
}

Test(dirs_rounds, a_profile_the_bot_made_after_an_earlier_round_is_kept)
{
    char profile[300];
    snprintf(profile, sizeof profile, "%s/profile", outdir);
    /* round 1: Chrome created the profile; that round was reaped, its
     * record settled */
    int64_t slot = record_profile(profile, 1);
    struct cr_dir out;
    cr_assert(registry_dir_read(&reg, (uint32_t)slot, &out));
    cr_assert(registry_dir_transition(&reg, (uint32_t)slot, out.seq, CR_SLOT_COMMITTED, CR_SLOT_REAPED));
    /* then the bot made the directory itself and launched round 2 with it */
    cr_assert_eq(mkdir(profile, 0700), 0);
    char keep[400];
    snprintf(keep, sizeof keep, "%s/Bookmarks", profile);
    FILE *f = fopen(keep, "w");
    cr_assert_not_null(f);
    fclose(f);
    record_profile(profile, 0);
    registry_close(&reg);

    char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", session, "--json", NULL};
    char *text = NULL;
    int rc = ts_run(argv, &text);
    cr_assert_eq(rc, 0, "%s", text);
    struct stat st;
    cr_assert_eq(stat(keep, &st), 0, "the bot's own profile was deleted: %s", text);
    /* no browser was ever seen using it: the bot's */
    cr_assert(strstr(text, "never given to a browser"), "%s", text);
    free(text);
}
