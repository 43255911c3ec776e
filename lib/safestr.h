/* Small string helpers that are async-signal-safe: no locale, no malloc, no
 * stdio.  The shim uses them in vfork children and right after fork. */
#ifndef CHROMEREAPER_SAFESTR_H
#define CHROMEREAPER_SAFESTR_H

#include <stddef.h>
#include <stdint.h>

/* Copies at most len-1 bytes and always terminates (if len > 0).
 * Returns strlen(src); truncation happened if the result >= len. */
size_t cr_strlcpy(char *dst, const char *src, size_t len);

/* Appends src to the NUL-terminated dst of capacity len; same contract. */
size_t cr_strlcat(char *dst, const char *src, size_t len);

/* Decimal text of v into buf; returns the number of digits or 0 if it does
 * not fit (buf is then left as ""). */
size_t cr_utoa(uint64_t v, char *buf, size_t len);

/* Parses a whole decimal string; returns 0 on success. */
int cr_parse_u64(const char *s, uint64_t *out);

/* If `s` is "<name>=<value>", returns the value, else NULL.  `name` has no '='. */
const char *cr_env_value(const char *s, const char *name);

/* Pointer to the last path component. */
const char *cr_basename(const char *path);

#endif
