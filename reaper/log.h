/* stderr logging for the CLI, filtered by CHROMEREAPER_LOG
 * (error|warn|info|debug, default warn). */
#ifndef CHROMEREAPER_LOG_H
#define CHROMEREAPER_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(void);
int log_enabled(enum log_level level);
__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);

#endif
