/* The names browsers, drivers and automation libraries give the temporary
 * directories they make for a browser: Chrome's singleton and temp
 * directories and chromedriver's profile ([.]org.chromium.Chromium.*,
 * [.]com.google.Chrome.*), Puppeteer's and Playwright's profiles and
 * Playwright's artifacts directory.  The shim records a mkdtemp of such a
 * name in any process of the session (Node makes them in the bot); the
 * reaper counts the name as a sign the directory was made for a browser.
 * Async-signal-safe. */
#ifndef CHROMEREAPER_TEMPNAME_H
#define CHROMEREAPER_TEMPNAME_H

/* 1 if the last component of `path` bears such a name (more than the
 * prefix alone). */
int temp_name_known(const char *path);

#endif
