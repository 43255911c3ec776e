/* chromereaper reap: one session, the stale ones, or all of the caller's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "metrics.h"
#include "reap.h"
#include "report.h"
#include "safestr.h"

int cmd_reap(int argc, char **argv)
{
    static const struct option opts[] = {
        {"session", required_argument, 0, 's'}, {"stale", no_argument, 0, 'S'},
        {"all", no_argument, 0, 'a'},           {"grace", required_argument, 0, 'g'},
        {"dry-run", no_argument, 0, 'n'},       {"json", no_argument, 0, 'j'},
        {"uid", required_argument, 0, 'u'},     {"metrics-file", required_argument, 0, 'm'},
        {"timings", no_argument, 0, 't'},       {0, 0, 0, 0},
    };
    const char *session = NULL, *metrics_path = NULL;
    int stale = 0, all = 0, json = 0, timings = 0;
    uint64_t uid = getuid();
    struct reap_options ro = {.grace_sec = 2.0, .spare_root = 1};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': session = optarg; break;
        case 'S': stale = 1; break;
        case 'a': all = 1; break;
        case 'n': ro.dry_run = 1; break;
        case 'j': json = 1; break;
        case 't': timings = 1; break;
        case 'm': metrics_path = optarg; break;
        case 'g':
            if (parse_seconds(optarg, &ro.grace_sec) < 0) {
                fprintf(stderr, "chromereaper: --grace takes seconds from 0 to 3600\n");
                return EXIT_USAGE;
            }
            break;
        case 'u':
            if (parse_uid(optarg, &uid) < 0)
                return EXIT_USAGE;
            break;
        default: usage(); return EXIT_USAGE;
        }
    }
    if (optind != argc || (!!session + stale + all) != 1) {
        fprintf(stderr, "chromereaper: reap needs exactly one of --session ID, --stale, --all\n");
        return EXIT_USAGE;
    }
    if (uid != getuid() && geteuid() != 0) {
        fprintf(stderr, "chromereaper: only root may reap another uid's sessions\n");
        return EXIT_USAGE;
    }
    char (*ids)[CR_SESSION_MAX] = NULL;
    size_t n;
    if (session) {
        ids = malloc(sizeof *ids);
        if (!ids)
            abort();
        cr_strlcpy(ids[0], session, sizeof ids[0]);
        n = 1;
    } else {
        n = session_list((uint32_t)uid, &ids);
    }
    struct metrics metrics;
    metrics_init(&metrics, ro.dry_run ? NULL : metrics_path, session, (uint32_t)uid);
    int rc = EXIT_DONE;
    /* --json: one document, the session's object, or an array of them */
    int array = json && !session;
    size_t shown = 0;
    if (array)
        fputs("[", stdout);
    for (size_t i = 0; i < n; i++) {
        struct session s;
        char why[160];
        enum cr_registry_status st = session_load(&s, (uint32_t)uid, ids[i], 1, why, sizeof why);
        if (st == CR_REG_OK && stale && !session_is_stale(&s)) {
            session_free(&s);
            continue;
        }
        if (array && shown++)
            fputs(",", stdout);
        if (st == CR_REG_REAPED) {
            /* a concurrent reap (or the watchdog) finished it: same outcome */
            report_already_reaped(ids[i], why, json);
            continue;
        }
        if (st == CR_REG_FOREIGN && !session) {
            /* not ours to judge (planted by another uid, a wrong mode, another
             * PID namespace): the sweep goes on */
            char skipped[200] = "skipped: ";
            cr_strlcat(skipped, why, sizeof skipped);
            report_session_error(ids[i], skipped, json);
            continue;
        }
        if (st != CR_REG_OK) {
            report_session_error(ids[i], why, json);
            if (st == CR_REG_BUSY && rc != EXIT_REGISTRY)
                rc = EXIT_BUSY;
            else if (st != CR_REG_BUSY)
                rc = EXIT_REGISTRY;
            continue;
        }
        struct reap_result r;
        if (reap_session(&s, &ro, &r) != 0 && rc == EXIT_DONE)
            rc = EXIT_LEFTOVERS;
        metrics_reaped(&metrics, &r, 0);
        if (json)
            report_json(stdout, &r);
        else
            report_text(stdout, &r);
        if (timings) {
            fflush(stdout); /* the line follows its report on a shared terminal */
            report_timings(stderr, &r);
        }
        reap_result_free(&r);
        session_free(&s);
    }
    if (array)
        fputs("]\n", stdout);
    free(ids);
    if (metrics.reaps == 0)
        metrics_write(&metrics); /* nothing to reap: the file still says so */
    return rc;
}
