/* The session report of `run --report FILE` and CHROMEREAPER_REPORT=FILE:
 * one JSON document (schema docs/report.schema.json, version
 * REPORT_SCHEMA_VERSION) with everything the session's history holds,
 * written when the session ends, atomically (a temporary file in the same
 * directory, renamed over FILE). */
#ifndef CHROMEREAPER_REPORT_JSON_H
#define CHROMEREAPER_REPORT_JSON_H

#include <stdio.h>
#include <sys/types.h>

#include "history.h"
#include "session_limits.h"

#define REPORT_SCHEMA_VERSION 1

struct report_meta {
    const char *session;
    const char *mode;         /* "run" or "watch" */
    char *const *argv;        /* run: the command; NULL for the watchdog */
    pid_t root_pid;
    int have_status;          /* run: the command's wait status is known */
    int wait_status;
    int exit_status;          /* what chromereaper exits with; -1 for the watchdog */
    int fail_on_leak;
    const struct limits *limits;
};

void report_json_session(FILE *out, const struct history *h, const struct report_meta *m);

/* 0, or -1 with errno (the temporary file is removed). */
int report_json_write(const char *path, const struct history *h, const struct report_meta *m);

#endif
