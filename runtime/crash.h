/* crash.h - the report a node writes to its log when it crashes.
 *
 * On SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT the handler writes a report
 * to the log file (a header line, the signal's number and name, who sent it
 * or what address faulted, the crashing thread, a stack trace from
 * backtrace()), then restores the default action and raises the signal
 * again, so the process still dies by that signal (exit status, core dump).
 *
 * Must never: call anything that is not async-signal-safe from the handler
 * (no stdio, no malloc, no locks): the crash may have happened inside any of
 * them. backtrace() itself may load libgcc on its first call, so
 * rt_crash_install calls it once beforehand.
 */
#ifndef SHOAL_RUNTIME_CRASH_H
#define SHOAL_RUNTIME_CRASH_H

/* Installs the handlers for the whole process (call once, from main, after
 * the log is open; the handler reads the log's fd when it runs). 0 or -1. */
int rt_crash_install(void);

#endif
