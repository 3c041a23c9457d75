/* log.h - logging in Redis's format: "pid:role dd Mon yyyy hh:mm:ss.mmm <level> message".
 *
 * Levels and their marks as in Redis: debug '.', verbose '-', notice '*',
 * warning '#'. Safe from any thread: each line is written with one write(2).
 *
 * Must never: take a lock or use stdio buffers (lines would interleave or be
 * lost on a crash).
 */
#ifndef SHOAL_RUNTIME_LOG_H
#define SHOAL_RUNTIME_LOG_H

#include <stdbool.h>

enum rt_log_level { RT_LOG_DEBUG = 0, RT_LOG_VERBOSE = 1, RT_LOG_NOTICE = 2, RT_LOG_WARNING = 3 };

/* Lines at a level below the current one (default RT_LOG_NOTICE, as Redis)
 * are dropped. Messages longer than 1024 bytes are cut, as in Redis. */

/* path NULL or "" = stdout. Returns 0, or -1 with errno if the file can't be opened.
 * The file is opened O_APPEND and created 0644. Reopening a file (e.g. after
 * rotation) is safe while other threads log; switching back to stdout is
 * meant for startup/teardown. Do not call concurrently with itself. */
int rt_log_open(const char *path);
void rt_log_set_level(int level);
int rt_log_get_level(void);
/* Role character: 'M' master, 'S' replica, 'C' child (default 'M'). */
void rt_log_set_role(char role);
/* In the child of a fork from a process of several threads: lines take the
 * parent's last local time offset instead of calling localtime_r, whose
 * lock another thread may have held at the fork (false: back to it). */
void rt_log_forked_child(bool on);

/* The fd lines are written to, for the crash handler (async-signal-safe). */
int rt_log_fd(void);

void rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes the message exactly as formatted: no prefix and no newline added,
 * like Redis's LL_RAW (for the startup banner). Still filtered by level. */
void rt_log_raw(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_DEBUG(...)   rt_log(RT_LOG_DEBUG, __VA_ARGS__)
#define LOG_VERBOSE(...) rt_log(RT_LOG_VERBOSE, __VA_ARGS__)
#define LOG_NOTICE(...)  rt_log(RT_LOG_NOTICE, __VA_ARGS__)
#define LOG_WARNING(...) rt_log(RT_LOG_WARNING, __VA_ARGS__)

#endif
