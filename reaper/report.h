/* The reap report: one summary line, then what happened to each process and
 * directory; or the same as JSON. */
#ifndef CHROMEREAPER_REPORT_H
#define CHROMEREAPER_REPORT_H

#include <stdio.h>

#include "log.h"
#include "reap.h"

void report_summary(FILE *out, const struct reap_result *r);
void report_text(FILE *out, const struct reap_result *r);
void report_json(FILE *out, const struct reap_result *r);
/* report_text through the log (log.h), at `level`. */
void log_report(enum log_level level, const struct reap_result *r);

/* `reap --timings`: "chromereaper: timings scan=<ms> plan=<ms> freeze=<ms>
 * signal=<ms> wait=<ms> dirs=<ms> total=<ms>" (struct reap_timings), one
 * line; the bench reads it by these names. */
void report_timings(FILE *out, const struct reap_result *r);

/* A session that could not be handled: "chromereaper: session ID: WHY" on
 * stderr (escaped: `why` may quote the registry); with `json` also
 * {"session":ID,"error":WHY} on stdout, in place of its report. */
void report_session_error(const char *id, const char *why, int json);

/* {"session":ID,"already_reaped":true}, or its text line on stdout. */
void report_already_reaped(const char *id, const char *why, int json);

#endif
