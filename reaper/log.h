/* Logging for the CLI, filtered by CHROMEREAPER_LOG (error|warn|info|debug,
 * default warn).  Lines go to stderr, and also appended to
 * $CHROMEREAPER_LOG_FILE when it is set.  A detached process (the watchdog,
 * whose stderr is /dev/null) sends them to syslog instead, which is the
 * journal where systemd runs, and to the bot's terminal if it had one,
 * reopened for each line and never held open. */
#ifndef CHROMEREAPER_LOG_H
#define CHROMEREAPER_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(void);
/* For the watchdog: no stderr; syslog where /dev/log is; `terminal` (may
 * be NULL) is the path of the bot's terminal. */
void log_detached(const char *terminal);
int log_enabled(enum log_level level);
__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);
/* Each line of `text` as one message. */
void log_text(enum log_level level, const char *text);

#endif
