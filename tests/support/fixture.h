/* What a test that runs the fixture browser (fake_chromium) holds, and its
 * cleanup: the session, a private directory, the program it started, the
 * fixture's pids and the directory the fixture made. */
#ifndef CHROMEREAPER_TEST_FIXTURE_H
#define CHROMEREAPER_TEST_FIXTURE_H

#include <sys/types.h>

#define TF_MAX_PIDS 16

struct tf_run {
    char session[64];  /* "" if none; reaped and removed by tf_cleanup */
    char outdir[256];
    pid_t started;     /* killed with its descendants by tf_cleanup */
    pid_t pids[TF_MAX_PIDS];
    int npids;
    char made_dir[512];
};

void tf_init(struct tf_run *f, const char *tag);
void tf_cleanup(struct tf_run *f);

/* Reads OUTDIR/pids (the browser, two forked helpers, the exec'd renderer,
 * the daemon: asserts five) and OUTDIR/dir once OUTDIR/ready exists. */
void tf_read_fixture(struct tf_run *f);

#endif
