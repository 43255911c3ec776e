/* Minimal JSON writing: the CLI's --json output is a contract for scripts. */
#ifndef CHROMEREAPER_JSON_H
#define CHROMEREAPER_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included. */
void json_string(FILE *out, const char *s);

#endif
