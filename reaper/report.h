/* The reap report: one summary line, then what happened to each process and
 * directory; or the same as JSON. */
#ifndef CHROMEREAPER_REPORT_H
#define CHROMEREAPER_REPORT_H

#include <stdio.h>

#include "reap.h"

void report_summary(FILE *out, const struct reap_result *r);
void report_text(FILE *out, const struct reap_result *r);
void report_json(FILE *out, const struct reap_result *r);

#endif
