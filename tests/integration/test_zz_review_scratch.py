import time
import pytest
import helpers as h

@pytest.mark.parametrize("debug", ["LOADAOF"])
def test_save_during_reload(servers, debug):
    node = servers.shoal(extra_args=["--enable-debug-command", "yes", "--appendonly", "yes", "--aof-use-rdb-preamble", "no"], base_args="standalone")
    N = 1200000
    with node.raw(timeout=120) as c:
        for b in range(0, N, 10000):
            c.send(b"".join(h.encode("SET", f"key:{i}", "x" * 20) for i in range(b, b + 10000)))
            for i in range(10000): c.read()
        c.call("SAVE")
        c.call("CONFIG", "SET", "save", "1 1")
        time.sleep(2.2)
        t0 = time.time()
        print(c.raw("DEBUG", debug), time.time() - t0)
        print(c.raw("DBSIZE"))
        time.sleep(1.5)
    log = node.log()
    print("\n".join(l for l in log.splitlines() if "Saving" in l or "DEBUG" in l or "saved" in l.lower() or "Background" in l))
