#include "fixture.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

void tf_init(struct tf_run *f, const char *tag)
{
    memset(f, 0, sizeof *f);
    f->started = -1;
    ts_tmpdir(f->outdir, sizeof f->outdir, tag);
}

void tf_cleanup(struct tf_run *f)
{
    if (f->session[0]) {
        char *argv[] = {(char *)ts_build("chromereaper"), "reap", "--session", f->session, "--grace", "0", NULL};
        ts_run(argv, NULL);
        ts_kill_session(f->session);
        ts_session_remove(f->session);
    }
    for (int i = 0; i < f->npids; i++)
        ts_kill(f->pids[i], SIGKILL);
    if (f->started > 0) {
        pid_t kids[256];
        int n = ts_descendants(f->started, kids, 256);
        for (int i = 0; i < n; i++)
            ts_kill(kids[i], SIGKILL);
        ts_kill(f->started, SIGKILL);
        ts_waitpid(f->started, 10);
    }
    if (f->made_dir[0])
        ts_rm_rf(f->made_dir);
    ts_rm_rf(f->outdir);
}

void tf_read_fixture(struct tf_run *f)
{
    char ready[300], pidfile[300], dirfile[300];
    snprintf(ready, sizeof ready, "%s/ready", f->outdir);
    snprintf(pidfile, sizeof pidfile, "%s/pids", f->outdir);
    snprintf(dirfile, sizeof dirfile, "%s/dir", f->outdir);
    cr_assert_eq(ts_wait_file(ready, 30), 0, "the fixture browser never got ready");
    f->npids = ts_read_pids(pidfile, f->pids, TF_MAX_PIDS);
    cr_assert_eq(f->npids, 5, "fixture reported %d pids", f->npids);
    char *dir = ts_slurp(dirfile);
    cr_assert_not_null(dir);
    snprintf(f->made_dir, sizeof f->made_dir, "%s", dir);
    free(dir);
}
