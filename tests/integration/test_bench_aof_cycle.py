"""bench/aof_cycle.py's arithmetic on a made-up `perf script` trace: no server is started.

What it is for: analyse() turns the scheduler's switch/wake-up events and the syscalls of an
`appendfsync always` run into each thread's share of the run (running, runnable with both
cores taken, runnable while a core was idle, in the disk, asleep), its CPU per SET, who
preempted it, and the delays from each fsync's end to the next reply write, client read,
client send, server read, AOF write (a write to the fsynced fd) and fsync. These check each
figure on a trace small enough to count by hand.

What it must never do: start or stop a process.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import aof_cycle               # noqa: E402  (bench/ is not a package)

# server pid 100 (worker 101), redis-benchmark pid 200, another process 300 on cpu 1.
# t=0 .. 10 ms: the client sends at 0 and at 10 ms (the run's span).
TRACE = """\
 redis-benchmark   200/200   [000] 1.000000: syscalls:sys_enter_sendto: fd: 0x00000005, buff: 0x1
        worker-0   100/101   [000] 1.000000: sched:sched_switch: prev_comm=worker-0 prev_pid=101 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
           other   300/300   [001] 1.000000: sched:sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=other next_pid=300 next_prio=120
         swapper     0/0     [000] 1.001000: sched:sched_wakeup: comm=worker-0 pid=101 prio=120 target_cpu=000
         swapper     0/0     [000] 1.002000: sched:sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=worker-0 next_pid=101 next_prio=120
        worker-0   100/101   [000] 1.002100: syscalls:sys_enter_read: fd: 0x00000007, buf: 0x1, count: 0x4000
        worker-0   100/101   [000] 1.002500: syscalls:sys_enter_writev: fd: 0x00000010, vec: 0x1, vlen: 0x00000001
        worker-0   100/101   [000] 1.002600: syscalls:sys_enter_fdatasync: fd: 0x00000010
        worker-0   100/101   [000] 1.002700: sched:sched_switch: prev_comm=worker-0 prev_pid=101 prev_prio=120 prev_state=D ==> next_comm=redis-benchmark next_pid=200 next_prio=120
         swapper     0/0     [000] 1.003600: sched:sched_wakeup: comm=worker-0 pid=101 prio=120 target_cpu=000
 redis-benchmark   200/200   [000] 1.004600: sched:sched_switch: prev_comm=redis-benchmark prev_pid=200 prev_prio=120 prev_state=S ==> next_comm=worker-0 next_pid=101 next_prio=120
        worker-0   100/101   [000] 1.004600: syscalls:sys_exit_fdatasync: 0x0
        worker-0   100/101   [000] 1.004700: syscalls:sys_enter_write: fd: 0x00000007, buf: 0x1, count: 0x5
        worker-0   100/101   [000] 1.005000: sched:sched_switch: prev_comm=worker-0 prev_pid=101 prev_prio=120 prev_state=R ==> next_comm=redis-benchmark next_pid=200 next_prio=120
 redis-benchmark   200/200   [000] 1.005100: syscalls:sys_exit_recvfrom: 0x5
 redis-benchmark   200/200   [000] 1.006000: sched:sched_switch: prev_comm=redis-benchmark prev_pid=200 prev_prio=120 prev_state=S ==> next_comm=worker-0 next_pid=101 next_prio=120
        worker-0   100/101   [000] 1.006000: syscalls:sys_enter_read: fd: 0x00000007, buf: 0x1, count: 0x4000
        worker-0   100/101   [000] 1.006500: syscalls:sys_enter_writev: fd: 0x00000010, vec: 0x1, vlen: 0x00000001
        worker-0   100/101   [000] 1.006600: syscalls:sys_enter_fdatasync: fd: 0x00000010
        worker-0   100/101   [000] 1.006800: syscalls:sys_exit_fdatasync: 0x0
 redis-benchmark   200/200   [000] 1.010000: syscalls:sys_enter_sendto: fd: 0x00000005, buff: 0x1
"""


def test_thread_shares_and_cpu_per_set():
    fig = aof_cycle.analyse(TRACE, 100, 200, requests=10)
    assert abs(fig["run_s"] - 0.010) < 1e-9
    w = fig["threads"]["worker-0:101"]
    share = {k: round(v * 1e4) for k, v in w["share"].items()}   # in units of 1 us over the 10 ms
    # asleep 0-1 ms; runnable 1-2 ms with cpu 0 idle; running 2-2.7; disk 2.7-3.6;
    # runnable 3.6-4.6 with both cores taken; running 4.6-5.0; runnable 5.0-6.0; running 6.0-10.0
    assert share == {"asleep": 1000, "runnable, a core idle": 1000, "running": 5100, "disk": 900,
                     "runnable": 2000}
    assert abs(w["cpu_us_per_set"] - 510.0) < 1e-6
    assert w["preempted_by"] == [("redis-benchmark", 1)]


def test_fsyncs_and_what_follows_each_end():
    fig = aof_cycle.analyse(TRACE, 100, 200, requests=10)
    n, median, mean = fig["fsyncs"]
    assert n == 2 and abs(median - 1.1) < 1e-6 and abs(mean - 1.1) < 1e-6
    after = {k: round(v[0], 6) for k, v in fig["after_fsync_ms"].items()}
    # only the first fsync (ends at 4.6 ms) has a whole cycle after it; after the second
    # (ends at 6.8 ms) only the client's send at 10 ms follows
    assert after["reply written"] == 0.1            # the write to fd 7 at 4.7 ms, not the AOF's fd 16
    assert after["redis-benchmark reads"] == 0.5
    assert after["server reads"] == 1.4
    assert after["AOF write"] == 1.9
    assert after["next fsync"] == 2.0
    assert round(fig["after_fsync_ms"]["redis-benchmark sends"][0], 6) == round((5.4 + 3.2) / 2, 6)


def test_no_client_events_gives_none():
    assert aof_cycle.analyse("", 100, 200, requests=10) is None
