/* banner.h - the startup banner (always-show-logo, or a terminal on stdout). */
#ifndef SHOAL_ACTORS_BANNER_H
#define SHOAL_ACTORS_BANNER_H

/* Prints the banner when always-show-logo is yes, or when the log goes to a
 * terminal, as Redis decides for its logo. It carries the lines " Port: N"
 * and " PID: N" that test harnesses wait for. */
void banner_print(void);

#endif
