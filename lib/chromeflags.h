/* CHROMEREAPER_CHROME_FLAGS: switches appended to the command line of every
 * browser a session starts (its main process only), e.g.
 * "--disable-dev-shm-usage --renderer-process-limit=2".  Async-signal-safe
 * and allocation-free: the shim applies them in exec wrappers, which run in
 * vfork children. */
#ifndef CHROMEREAPER_CHROMEFLAGS_H
#define CHROMEREAPER_CHROMEFLAGS_H

#include <stddef.h>

#define CR_CHROME_FLAGS_VAR "CHROMEREAPER_CHROME_FLAGS"
#define CR_CHROME_FLAGS_MAX 16    /* switches taken from the variable */
#define CR_CHROME_FLAGS_LEN 512   /* bytes of the variable used */
#define CR_CHROME_FLAGS_ARGV_MAX 128 /* a longer command line is left alone */

/* Splits `value` on blanks into at most `max` switches, copied into `buf`
 * (`words` point into it).  Only "--name" and "--name=value" words of
 * printable ASCII are taken; "--type=..." (which would turn the browser into one of its own
 * helpers) and anything else are skipped, as is all of a value too long
 * for `buf`.  Returns the number of switches. */
size_t chromeflags_split(const char *value, char *buf, size_t buflen, const char **words, size_t max);

/* `argv` followed by each of `flags` it does not already hold, into `out`
 * (room for `cap` pointers, NULL-terminated).  Returns how many were
 * appended; 0 (and `out` untouched) when `argv` has more than `cap` allows. */
size_t chromeflags_append(char *const argv[], const char *const *flags, size_t nflags, char **out,
                          size_t cap);

/* 1 if the NUL-separated command line `cmdline` (`len` bytes) holds the
 * argument `flag` exactly. */
int chromeflags_has(const char *cmdline, size_t len, const char *flag);

#endif
