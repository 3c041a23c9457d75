/* main.c - shoal-node: loads the configuration like redis-server, opens the
 * listening sockets, starts the runtime threads and actors (state, config
 * persister, client workers), then waits for SIGTERM/SIGINT, saves
 * nodes.conf and exits.
 *
 * Must never: exit below main() except for startup misconfiguration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actors/acl/acl.h"
#include "actors/banner.h"
#include "actors/bus/link.h"
#include "actors/commands/commands.h"
#include "actors/config/config.h"
#include "actors/failover/elector.h"
#include "actors/persist/aof.h"
#include "actors/persist/persister.h"
#include "actors/persist/rdb_save.h"
#include "actors/repl/repl.h"
#include "actors/repl/repl_replica.h"
#include "actors/repl/standalone.h"
#include "actors/shutdown.h"
#include "actors/state/state.h"
#include "actors/worker/evict.h"
#include "actors/worker/fdlimit.h"
#include "actors/worker/listen.h"
#include "actors/worker/stats.h"
#include "actors/worker/unixsock.h"
#include "actors/worker/worker.h"
#include "runtime/crash.h"
#include "runtime/log.h"
#include "runtime/memtrim.h"
#include "runtime/random.h"

extern char g_run_id[41];
extern char g_executable[PATH_MAX];

/* Process-wide settings every later stage relies on: the executable's
 * path (for the crash report), malloc's thresholds, the command table, the
 * counters and the run id. */
static void process_init(const char *argv0)
{
    if (realpath("/proc/self/exe", g_executable) == NULL) snprintf(g_executable, sizeof g_executable, "%s", argv0);
    /* Buffers of a few hundred KB come and go on every thread (bus bursts,
     * pipelines): keep glibc from mapping them (mmap/munmap each time).
     * The top of each arena is handed back by free() only past 1 MB of free
     * space: with glibc's 128 KB a burst's frames would be trimmed and
     * faulted in again on every round, and out of reach (64 MB, as here
     * before) a burst of a thousand peers joining left ~30 MB resident in
     * the link threads' arenas for good, since malloc_trim, which the main
     * thread calls (runtime/memtrim.h), does not shrink a thread arena's top. */
    mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    cmd_table_init();
    stats_global_init();
    rt_random_hex(g_run_id, 40);
    srandom((unsigned)(getpid() ^ rt_now_us()));
}

/* daemonize yes: the parent exits, the child leaves the terminal. */
static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return -1; }
    if (pid > 0) _exit(0);
    setsid();
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); dup2(nul, 2); if (nul > 2) close(nul); }
    return 0;
}

/* Opens the log, writes the start lines and the pidfile. */
static int log_start(const char *argv0)
{
    char path[1024];
    config_logfile(path, sizeof path);
    if (rt_log_open(path[0] ? path : NULL) != 0) {
        fprintf(stderr, "Can't open the log file: %s\n", strerror(errno));
        return -1;
    }
    rt_log_set_level(config_loglevel());
    rt_log_set_role('M');
    LOG_NOTICE("oO0OoO0OoO0Oo shoal is starting oO0OoO0OoO0Oo");
    LOG_NOTICE("shoal version=0.1 (Redis-compatible 7.0.15), bits=64, pid=%d, just started", (int)getpid());
    char cfgpath[1024] = "";
    config_file_path(cfgpath, sizeof cfgpath);
    if (cfgpath[0]) LOG_NOTICE("Configuration loaded");
    else LOG_WARNING("Warning: no config file specified, using the default config. In order to specify a config file use %s /path/to/redis.conf", argv0);

    config_pidfile(path, sizeof path);
    if (path[0]) {
        FILE *pf = fopen(path, "w");
        if (pf) { fprintf(pf, "%d\n", (int)getpid()); fclose(pf); }
    }
    return 0;
}

/* Signals are taken by main with sigwait; every thread inherits the mask
 * set here, so this runs before any thread starts. */
static void signals_setup(sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, shutdown_wake_signal());
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* As redis-server: a hangup (closed terminal, a supervisor's reload
     * signal) must not end the node without saving. */
    signal(SIGHUP, SIG_IGN);
    if (rt_crash_install() != 0) LOG_WARNING("Could not install the crash report handlers");
}

/* The cluster's actors (state, persister, elector) on their threads, or the
 * standalone node's one-node view. */
static int cluster_start(void)
{
    rt_snap_init(&g_cluster_snapshot, NULL, NULL);
    if (!config_cluster_enabled()) return standalone_publish_initial();
    rt_thread_t *state_thread = rt_thread_create("state");
    rt_thread_t *persist_thread = rt_thread_create("persister");
    if (!state_thread || !persist_thread) return -1;
    rt_thread_enable_borrow(state_thread);   /* a worker may apply a SETSLOT while it sleeps (state_borrow.c) */
    char conf[1024];
    config_cluster_config_file(conf, sizeof conf);
    if (persister_start(persist_thread, conf, STATE_MSG_DURABLE) != 0) return -1;
    if (state_start(state_thread, conf) != 0) return -1;
    elector_start(state_thread);
    if (rt_thread_start(persist_thread) != 0 || rt_thread_start(state_thread) != 0) return -1;
    return 0;
}

/* The client listeners: TCP on every bind address (none with port 0, as
 * redis-server: a unixsocket-only node), the same for tls-port, and the
 * unix socket. Returns the number of plain TCP sockets in fds, or -1. */
static int g_tls_fds[CONFIG_BIND_MAX];
static int g_ntls;

static int listeners_open(char addrs[][CONFIG_ADDR_MAX], int naddr, int port, int *fds)
{
    int backlog = (int)config_get_num(CONFIG_TCP_BACKLOG);
    int tls_port = (int)config_get_num(CONFIG_TLS_PORT);
    int nfds = listen_startup(false, addrs, naddr, port, backlog, fds);
    if (nfds < 0 || (nfds == 0 && port)) {
        LOG_WARNING("Failed listening on port %d (TCP), aborting.", port);
        return -1;
    }
    g_ntls = listen_startup(true, addrs, naddr, tls_port, backlog, g_tls_fds);
    if (g_ntls < 0 || (g_ntls == 0 && tls_port)) {
        LOG_WARNING("Failed listening on port %d (TLS), aborting.", tls_port);
        return -1;
    }
    config_set_bind_handler(listen_rebind);
    config_set_port_handler(listen_change_port);
    if (unixsock_open(backlog) == -1) return -1;
    if (nfds == 0 && g_ntls == 0 && unixsock_fd() < 0) {
        LOG_WARNING("Configured to not listen anywhere, exiting.");
        return -1;
    }
    return nfds;
}

/* Everything that must be ready before the Ready line: the data loaded, the
 * replication actor, the bus listener. As redis-server, nothing is served
 * before it. */
/* dump.rdb is loaded once the workers run (rdb_load_live). */
static bool load_rdb;
static sigset_t g_sigs;
static void exit_steps(void);

/* Called by the start's load now and then: a SIGTERM/SIGINT that arrived
 * meanwhile ends the node there, without saving. */
static bool load_interrupted(void)
{
    struct timespec now = { 0, 0 };
    int sig = sigtimedwait(&g_sigs, NULL, &now);
    if (sig == SIGTERM || sig == SIGINT) shutdown_while_loading(sig);
    /* SHUTDOWN (it has the loading flag): loading, it never saves */
    if (sig == shutdown_wake_signal()) shutdown_tick();
    return false;
}

static int prepare_to_serve(char addrs[][CONFIG_ADDR_MAX], int naddr)
{
    /* With appendonly yes the AOF is the data's source and dump.rdb is not
     * read, as in 7.0.15 (even when the AOF does not exist yet); only
     * dump.rdb's replication history is taken up (7.0.15 restores it only
     * when it loads an RDB). */
    int aof = aof_load_startup(config_worker_threads());
    if (aof < 0) return -1;
    rdb_load_history_t hist = { .valid = false };
    load_rdb = aof == 0;
    if (load_rdb) rdb_load_history(&hist);
    if (repl_start(hist.valid ? hist.replid : NULL, hist.offset) != 0) {
        LOG_WARNING("Could not start the replication actor");
        return -1;
    }
    if (aof_start() != 0) {
        LOG_WARNING("Could not start the AOF");
        return -1;
    }
    if (!config_cluster_enabled()) standalone_start(repl_thread());
    if (config_cluster_enabled() && links_open(addrs, naddr, config_cluster_bus_port()) != 0) {
        LOG_WARNING("Could not start the cluster bus on port %d", config_cluster_bus_port());
        return -1;
    }
    return 0;
}

static void log_started(int port)
{
    int nworkers = config_worker_threads();
    if (nworkers < 1) nworkers = 1;             /* as workers_start clamps it */
    if (nworkers > MAX_WORKERS) nworkers = MAX_WORKERS;
    banner_print();
    LOG_NOTICE("Server initialized");
    LOG_NOTICE("Running mode=%s, port=%d, worker threads=%d.", config_cluster_enabled() ? "cluster" : "standalone",
               port, nworkers);
}

/* The Ready lines come before the first command is answered, as in 7.0.15
 * (harnesses read the log once a PING is answered). */
static int g_ready_nfds;
static void log_ready(void)
{
    if (g_ready_nfds > 0 || g_ntls > 0) LOG_NOTICE("Ready to accept connections");
    if (unixsock_fd() >= 0) LOG_NOTICE("The server is now ready to accept connections at %s", unixsock_path());
}

/* Once the data is loaded and before any client is served, as 7.0.15: a
 * cluster master claims the unowned slots its loaded keys are in (or marks
 * them importing when another node owns them), nodes.conf saved first
 * (state_claim_loaded_slots). A save that fails ends the node, as 7.0.15's. */
static void check_loaded_slots(void)
{
    if (!config_cluster_enabled()) return;
    uint8_t with_keys[SLOT_COUNT / 8];
    workers_slots_with_keys(with_keys);
    if (state_claim_loaded_slots(with_keys, 30000) != 0) {
        LOG_WARNING("Fatal: can't update cluster config file.");
        exit(1);
    }
}

/* dump.rdb's keys are all in: the check, then the Ready lines. */
static void rdb_loaded(void)
{
    check_loaded_slots();
    log_ready();
}

/* After the Ready line: the workers start watching the listeners and adopt
 * the loaded data, then the bus links and the replica link start. */
static int serve(char addrs[][CONFIG_ADDR_MAX], int naddr, const int *fds, int nfds, int port)
{
    /* Commands of the AOF are replayed through the workers before they
     * watch the listeners: no client sees the node half loaded. */
    bool replay = aof_replay_pending();
    /* dump.rdb exists (its first look set the -LOADING flag): clients are
     * answered -LOADING meanwhile and the Ready lines come just before the
     * flag drops (rdb_load_set_ready). Otherwise they come now. */
    bool loading = load_rdb && rdb_load_refusing();
    g_ready_nfds = nfds;
    log_started(port);
    if (!replay && !loading) log_ready();
    if (workers_start(config_worker_threads(), fds, replay ? 0 : nfds) != 0) {
        LOG_WARNING("Could not start the worker threads");
        return -1;
    }
    if (replay) {
        /* clients are watched from now and answered -LOADING until the last command ran */
        aof_replay_begin();
        listen_attach(false, fds, nfds);
        if (g_ntls) listen_attach(true, g_tls_fds, g_ntls);
        evict_set_loading(true);
        int rc = aof_replay();
        evict_set_loading(false);
        if (rc != 0) return -1;
        check_loaded_slots();
        if (!loading) log_ready();
        aof_replay_end();
    } else if (g_ntls) {
        listen_attach(true, g_tls_fds, g_ntls);
    }
    /* dump.rdb: this thread parses, each worker builds its own keys, and
     * clients get -LOADING until the last key is in (rdb_load_live). */
    shutdown_set_exit(exit_steps);
    rdb_load_set_interrupt(load_interrupted);
    rdb_load_set_ready(loading ? rdb_loaded : NULL);
    if (loading && rdb_load_live() != 0) return -1;
    if (config_cluster_enabled()) {
        rt_thread_t *threads[MAX_WORKERS];
        for (int i = 0; i < workers_count(); i++) threads[i] = worker_thread(i);
        if (links_start(addrs, naddr, config_cluster_bus_port(), threads, workers_count(), state_actor()) != 0) {
            LOG_WARNING("Could not start the cluster bus on port %d", config_cluster_bus_port());
            return -1;
        }
    }
    if (repl_replica_start() != 0) {
        LOG_WARNING("Could not start the replica link thread");
        return -1;
    }
    return 0;
}

/* The end of a shutdown (shutdown.c), once dump.rdb is saved: fail over and
 * save nodes.conf when in a cluster, remove the unix socket and the pidfile.
 * The caller exits. */
static void exit_steps(void)
{
    /* The listening sockets stay open until _exit: the workers' watchers still
     * refer to them, and closing them under a running loop trips libev. */
    if (config_cluster_enabled()) {
        /* cluster-failover-on-shutdown: hand our slots to the best replica first. */
        if (config_get_num(CONFIG_CLUSTER_FAILOVER_ON_SHUTDOWN)) elector_failover_on_shutdown(5000);
        if (state_save_and_wait(800) != 0) LOG_WARNING("Could not confirm the cluster config save before exit");
        else LOG_NOTICE("Saving the cluster config file before exiting.");
    }
    unixsock_remove();
    char path[1024];
    config_pidfile(path, sizeof path);
    if (path[0]) {
        LOG_NOTICE("Removing the pid file.");
        unlink(path);
    }
    LOG_WARNING("shoal is now ready to exit, bye bye...");
    /* Threads are not joined: everything durable is already on disk, and a
     * quick exit keeps the shutdown within a second. */
}

int main(int argc, char **argv)
{
    config_error_t err;
    if (argc >= 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("shoal-node (Redis-compatible v=7.0.15) bits=64\n");
        return 0;
    }
    /* `user` lines are checked against the command table as they are read. */
    config_set_user_handler(acl_config_user);
    config_set_user_lines(acl_describe_all_users);
    if (config_load_argv(argc, argv, &err) != 0) {
        char buf[4096];
        config_format_error(&err, buf, sizeof buf);
        fputs(buf, stderr);
        fflush(stderr);
        return 1;
    }
    process_init(argv[0]);
    if (config_daemonize() && daemonize() != 0) return 1;
    if (log_start(argv[0]) != 0) return 1;
    acl_init();
    char aclerr[8192];
    if (acl_load_at_startup(aclerr, sizeof aclerr) != 0) {
        LOG_WARNING("%s", aclerr);
        return 1;
    }
    sigset_t sigs;
    signals_setup(&sigs);
    g_sigs = sigs;

    /* Before any thread or socket: maxclients must fit RLIMIT_NOFILE. */
    if (fdlimit_adjust(config_worker_threads()) != 0) return 1;
    if (config_tls_startup() != 0) {
        LOG_WARNING("Failed to configure TLS. Check logs for more info.");
        return 1;
    }
    int port = config_port();
    if (config_cluster_enabled() && config_cluster_port() == 0 && port > 55535) {
        LOG_WARNING("Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less.");
        return 1;
    }

    /* From here on threads may be running: a failure ends the process with
     * _exit, which runs no exit handlers under them. */
    g_start_ms = rt_now_ms();
    atomic_store(&g_lastsave, g_start_ms / 1000);
    if (cluster_start() != 0) _exit(1);
    char addrs[CONFIG_BIND_MAX][CONFIG_ADDR_MAX];
    int naddr = config_bind(addrs, CONFIG_BIND_MAX);
    if (naddr == 0) {
        snprintf(addrs[0], CONFIG_ADDR_MAX, "*");
        naddr = 1;
    }
    int fds[CONFIG_BIND_MAX];
    int nfds = listeners_open(addrs, naddr, port, fds);
    if (nfds < 0) _exit(1);
    /* As redis-server: every listener (the bus too) is open and the data is
     * loaded before the Ready line, and nothing is served before it. The
     * workers start watching the listeners only after it. */
    if (prepare_to_serve(addrs, naddr) != 0) _exit(1);
    if (serve(addrs, naddr, fds, nfds, port) != 0) _exit(1);

    /* The main thread has nothing else to do: it waits for the signal and,
     * once a second, sees whether malloc's arenas hold memory worth giving
     * back (runtime/memtrim.h; only after a second without client work): at
     * once after 8 MB of growth (a burst: a thousand peers joining), else
     * after 10 s, then every 20 s. The slack is above what a steady node at
     * 1,000 peers reuses (~5 MB of frames and snapshots, measured): less,
     * and those pages would be handed back and faulted in again every few
     * seconds; the 20 s keep what they hold between trims near that (a
     * longer period let a 1,000-peer node sit at ~22 MB against ~14 MB). */
    rt_memtrim_t trim = { .slack = 8u << 20, .period_min = 10, .period_max = 20 };
    rdb_save_init();
    long long next_trim = rt_mono_ms() + 1000;
    long long wait_ms = 100;
    for (;;) {
        /* At once for a signal (SIGTERM, SIGINT, and SHUTDOWN's wake-up):
         * the shutdown sequence; the save points when rdb_save_cron asked
         * (100 ms when a change may make one due, as 7.0.15's cron; up to
         * 1 s when only time can, or nothing is dirty), 100 ms while a
         * shutdown waits for replicas. An idle node wakes once a second. */
        struct timespec tick = { .tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000 * 1000 };
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) shutdown_signal(sig);
        bool waiting = shutdown_tick();
        wait_ms = rdb_save_cron();
        if (waiting && wait_ms > 100) wait_ms = 100;
        long long to_trim = next_trim - rt_mono_ms();
        if (to_trim > 100) {   /* the trim is not urgent: no wake-up of its own for a few ms */
            if (to_trim < wait_ms) wait_ms = to_trim;
            continue;
        }
        next_trim = rt_mono_ms() + 1000;
        size_t before = rt_resident_bytes();
        long long t0 = rt_now_us();
        if (rt_memtrim_tick(&trim))
            LOG_DEBUG("Returned freed heap memory: resident %zu KB -> %zu KB in %lld us", before >> 10, trim.base >> 10, rt_now_us() - t0);
    }
}
