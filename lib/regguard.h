/* A registry file truncated under its readers: any process of the uid can
 * ftruncate it, and a page of a shared mapping past the end of its file
 * is SIGBUS to whoever touches it.  The reaper's processes (run, watch,
 * reap, ls) install this guard: a SIGBUS inside a registry mapping
 * replaces that mapping with zeroed anonymous memory, which reads as an
 * empty registry, and the reader goes on (the session is then reaped by
 * cookie and descent).  A SIGBUS anywhere else keeps its default action.
 *
 * The shim never installs it: a preloaded library must not take the host's
 * signals (it checks the file before each append instead). */
#ifndef CHROMEREAPER_REGGUARD_H
#define CHROMEREAPER_REGGUARD_H

#include <stddef.h>

/* Installs the SIGBUS handler once; later calls do nothing. */
void regguard_install(void);

/* A registry mapping the guard may replace; and its removal before munmap.
 * No-ops until the guard is installed.  Async-signal-safe. */
void regguard_add(void *addr, size_t len);
void regguard_remove(void *addr);

/* How many mappings the guard has replaced so far. */
unsigned regguard_replaced(void);

#endif
