/* banner.c - the startup banner: a shoal of fish and the facts an operator
 * (or Redis's test framework, which waits for " PID: <pid>") looks for. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actors/banner.h"
#include "actors/config/config.h"
#include "runtime/log.h"

void banner_print(void)
{
    char v[16] = "", logfile[8] = "";
    config_get_by_name("always-show-logo", v, sizeof v);
    config_logfile(logfile, sizeof logfile);
    bool show = strcmp(v, "yes") == 0 || (logfile[0] == '\0' && isatty(STDOUT_FILENO));
    if (!show) return;
    rt_log_raw(RT_LOG_NOTICE,
               "\n"
               "        ><>          shoal 0.1 (Redis-compatible 7.0.15), 64 bit\n"
               "   ><>       ><>     Running in %s mode\n"
               "       ><>           Port: %d\n"
               "  ><>     ><>        PID: %d\n"
               "        ><>          Worker threads: %d\n"
               "\n",
               config_cluster_enabled() ? "cluster" : "standalone", config_port(), (int)getpid(),
               config_worker_threads());
}
