/* Strings a session chose (paths, command lines, anything from the
 * registry) printed without letting them forge output: control characters
 * and bytes that are not UTF-8 never reach a terminal or a parser raw. */
#ifndef CHROMEREAPER_ESCAPE_H
#define CHROMEREAPER_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Length (1-4) of the well-formed UTF-8 sequence at p, its code point in
 * *cp; 0 if the bytes there are not one (overlong, surrogate, truncated). */
size_t utf8_sequence(const unsigned char *p, uint32_t *cp);

/* For text output: backslash as "\\", \n \r \t as such, every other C0 or
 * C1 control, DEL and each byte that is not UTF-8 as "\xHH". */
void text_escaped(FILE *out, const char *s);

#endif
