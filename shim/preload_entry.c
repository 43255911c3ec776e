/* "LD_PRELOAD=/abs/path/libchromereaper.so", built by the constructor.
 * 4 KiB of which a program writes the first few dozen bytes, linked last
 * (Makefile): the library's other globals then share one page, one
 * copy-on-write fault in every program that loads it instead of two. */
#include "shim.h"

char shim_preload_entry[SHIM_PRELOAD_ENTRY_MAX];
