/* Numbers as people read them (doctor's text output), and the durations
 * they type (--older-than).  Pure functions. */
#ifndef CHROMEREAPER_HUMAN_H
#define CHROMEREAPER_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.5 KiB", "210.3 MiB", "2.0 GiB". */
void human_bytes(uint64_t bytes, char *out, size_t cap);

/* A span: "12 s", "5 min", "3 h", "2 d" (rounded, in the largest unit
 * it fills); human_ago appends " ago". */
void human_duration(double seconds, char *out, size_t cap);
void human_ago(double seconds, char *out, size_t cap);

/* "90", "90s", "30m", "1h", "2d" (also "1.5h") to seconds; -1 if not a
 * duration from 0 to 10 years. */
double human_parse_duration(const char *s);

#endif
