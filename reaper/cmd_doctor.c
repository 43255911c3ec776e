/* chromereaper doctor [--fix [--dry-run]] [--older-than DURATION] [--json]:
 * what is leaked on this machine for the caller's uid, whoever leaked it,
 * and with --fix its removal: stale sessions reaped, leaked processes
 * killed, leftover temp directories removed, in that order (each step
 * frees what the next one looks at). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "doctor.h"
#include "human.h"
#include "rmtree.h"
#include "session.h"

static int fix_sessions(struct doctor *d, const struct reap_options *ro)
{
    int rc = 0;
    for (size_t i = 0; i < d->nsessions; i++) {
        struct stale_session *ss = &d->sessions[i];
        ss->action = "left";
        if (ss->problem[0])
            continue; /* unreadable: nothing in it can be trusted to act on */
        if (ro->dry_run) {
            ss->action = "planned";
            continue;
        }
        struct session s;
        char why[160];
        enum cr_registry_status st = session_load(&s, d->uid, ss->id, 1, why, sizeof why);
        if (st == CR_REG_MISSING || st == CR_REG_REAPED) {
            ss->action = "reaped"; /* by someone else meanwhile */
            continue;
        }
        if (st != CR_REG_OK || !session_is_stale(&s)) {
            if (st == CR_REG_OK)
                session_free(&s);
            continue;
        }
        struct reap_result r;
        rc |= reap_session(&s, ro, &r);
        ss->action = "reaped";
        ss->killed = reap_count(&r, OUTCOME_TERMINATED) + reap_count(&r, OUTCOME_KILLED);
        ss->dirs_removed = reap_count_dirs(&r, DIR_REMOVED);
        reap_result_free(&r);
        session_free(&s);
    }
    return rc;
}

static int fix_processes(struct doctor *d, const struct reap_options *ro)
{
    if (!d->nprocs)
        return 0;
    struct tracked_key *keys = calloc(d->nprocs, sizeof *keys);
    if (!keys)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < d->nprocs; i++)
        if (d->procs[i].depth == 0)
            keys[n++] = (struct tracked_key){.pid = d->procs[i].pid, .start_time = d->procs[i].start_time};
    struct reap_result r;
    int rc = reap_orphans(keys, n, d->uid, ro, &r);
    free(keys);
    for (size_t i = 0; i < d->nprocs; i++) {
        struct leaked_proc *p = &d->procs[i];
        p->outcome = "vanished"; /* not in the plan: gone before it was made */
        for (size_t k = 0; k < r.ntargets; k++)
            if (r.targets[k].pid == p->pid && r.targets[k].start_time == p->start_time)
                p->outcome = outcome_name(r.targets[k].outcome);
    }
    reap_result_free(&r);
    return rc;
}

static int fix_dirs(struct doctor *d, int dry_run)
{
    int rc = 0;
    for (size_t i = 0; i < d->ndirs; i++) {
        struct leftover *l = &d->dirs[i];
        if (l->in_use_now) {
            l->action = "kept";
            snprintf(l->why, sizeof l->why, "a live process uses it");
            continue;
        }
        enum rmtree_result rr =
            dry_run ? rmtree_check(l->path, 1, l->dev, l->ino, d->uid, l->why, sizeof l->why)
                    : rmtree_checked(l->path, 1, l->dev, l->ino, d->uid, l->why, sizeof l->why);
        switch (rr) {
        case RMTREE_REMOVED: l->action = dry_run ? "planned" : "removed"; break;
        case RMTREE_ABSENT: l->action = "absent"; break;
        case RMTREE_MISMATCH: l->action = "kept"; break;
        case RMTREE_FAILED: l->action = "failed"; rc = 1; break;
        }
    }
    return rc;
}

static int colour_wanted(void)
{
    const char *no = getenv("NO_COLOR"); /* https://no-color.org: set and not empty */
    const char *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

int cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"fix", no_argument, 0, 'f'},         {"dry-run", no_argument, 0, 'n'},
        {"older-than", required_argument, 0, 'o'}, {"json", no_argument, 0, 'j'},
        {"grace", required_argument, 0, 'g'}, {0, 0, 0, 0},
    };
    struct doctor d = {.uid = (uint32_t)getuid(), .older_than = 3600};
    struct reap_options ro = {.grace_sec = 2.0, .spare_root = 1};
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f': d.fix = 1; break;
        case 'n': d.dry_run = ro.dry_run = 1; break;
        case 'j': json = 1; break;
        case 'o':
            d.older_than = human_parse_duration(optarg);
            if (d.older_than < 0) {
                fprintf(stderr, "chromereaper: --older-than takes a duration such as 90s, 30m, 1h or 2d\n");
                return EXIT_USAGE;
            }
            break;
        case 'g':
            if (parse_seconds(optarg, &ro.grace_sec) < 0) {
                fprintf(stderr, "chromereaper: --grace takes seconds from 0 to 3600\n");
                return EXIT_USAGE;
            }
            break;
        default: usage(); return EXIT_USAGE;
        }
    }
    if (optind != argc || (d.dry_run && !d.fix)) {
        fprintf(stderr, "chromereaper: doctor takes no arguments; --dry-run goes with --fix\n");
        usage();
        return EXIT_USAGE;
    }
    int rc = 0;
    doctor_survey_sessions(&d);
    if (d.fix)
        rc |= fix_sessions(&d, &ro);
    doctor_survey_processes(&d);
    doctor_survey_dirs(&d);
    if (d.fix) {
        rc |= fix_processes(&d, &ro);
        if (!d.dry_run)
            doctor_recheck_dirs(&d);
        rc |= fix_dirs(&d, d.dry_run);
    }
    if (json)
        doctor_report_json(stdout, &d);
    else
        doctor_report_text(stdout, &d, colour_wanted());
    int found = d.nprocs || d.ndirs || d.nsessions, fix = d.fix;
    doctor_free(&d);
    if (fix)
        return rc ? EXIT_LEFTOVERS : EXIT_DONE;
    return found ? EXIT_LEFTOVERS : EXIT_DONE;
}
