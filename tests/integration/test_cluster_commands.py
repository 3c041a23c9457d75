"""CLUSTER sub-commands on a single node: slots, epochs, reset, errors.

Expected replies are the bytes redis-server 7.0.15 sends (docs/clients.md
§3.0-3.9, §3.14-3.21). MEET/FORGET/REPLICATE/LINKS/FAILOVER/SETSLOT only need to
answer without crashing or hanging at this stage. Never weaken an expectation.
"""
import re

import pytest

import helpers as h


def myid(c):
    return c.call("CLUSTER", "MYID").decode()


def test_addslotsrange_all_makes_cluster_ok(node):
    with node.raw() as c:
        me = myid(c)
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK\r\n"
        # Redis waits ~2 s (startup grace) before the state turns ok.
        h.wait_until(lambda: h.cluster_info(c)["cluster_state"] == "ok", 6,
                     what="cluster_state:ok")
        info = h.cluster_info(c)
        assert info["cluster_slots_assigned"] == "16384"
        assert info["cluster_slots_ok"] == "16384"
        assert info["cluster_slots_pfail"] == "0"
        assert info["cluster_slots_fail"] == "0"
        assert info["cluster_known_nodes"] == "1"
        assert info["cluster_size"] == "1"

        nodes = c.call("CLUSTER", "NODES").decode()
        assert re.fullmatch(re.escape(me) + r" :%d@%d myself,master - 0 0 0 connected 0-16383\n"
                            % (node.port, node.port + 10000), nodes), nodes

        entry = b"*4\r\n$0\r\n\r\n:%d\r\n$40\r\n%s\r\n*0\r\n" % (node.port, me.encode())
        assert c.raw("CLUSTER", "SLOTS") == b"*1\r\n*3\r\n:0\r\n:16383\r\n" + entry

        shard = (b"*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n"
                 b"*14\r\n$2\r\nid\r\n$40\r\n" + me.encode() + b"\r\n"
                 b"$4\r\nport\r\n:%d\r\n$2\r\nip\r\n$0\r\n\r\n$8\r\nendpoint\r\n$0\r\n\r\n"
                 b"$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n"
                 b"$6\r\nhealth\r\n$6\r\nonline\r\n") % node.port
        assert c.raw("CLUSTER", "SHARDS") == shard

        # keyed commands are served now
        assert c.raw("GET", "foo") == b"$-1\r\n"
        assert c.raw("SET", "foo", "bar") == b"+OK\r\n"
        assert c.raw("GET", "foo") == b"$3\r\nbar\r\n"


def test_slots_and_shards_in_resp3(node):
    with node.raw() as c:
        me = myid(c).encode()
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "99", "200", "300") == b"+OK\r\n"
        c.call("HELLO", "3")
        entry = b"*4\r\n$0\r\n\r\n:%d\r\n$40\r\n%s\r\n%%0\r\n" % (node.port, me)
        assert c.raw("CLUSTER", "SLOTS") == (b"*2\r\n*3\r\n:0\r\n:99\r\n" + entry
                                             + b"*3\r\n:200\r\n:300\r\n" + entry)
        raw, v = c.req("CLUSTER", "SHARDS")
        assert raw.startswith(b"*1\r\n%2\r\n$5\r\nslots\r\n*4\r\n:0\r\n:99\r\n:200\r\n:300\r\n"
                              b"$5\r\nnodes\r\n*1\r\n%7\r\n$2\r\nid\r\n"), raw
        nodemap = dict(v[0][1][1][0])
        assert nodemap[b"id"] == me and nodemap[b"port"] == node.port
        assert nodemap[b"role"] == b"master" and nodemap[b"health"] == b"online"
        ci = c.call("CLUSTER", "INFO")
        assert isinstance(ci, h.Verbatim) and ci.fmt == "txt"
        assert ci.data.startswith(b"cluster_state:")
        cn = c.call("CLUSTER", "NODES")
        assert isinstance(cn, h.Verbatim) and cn.fmt == "txt"
        assert cn.data.decode().endswith(" connected 0-99 200-300\n"), cn.data


def test_nodes_slot_list_uses_maximal_ranges(node):
    with node.raw() as c:
        assert c.raw("CLUSTER", "ADDSLOTS", "5", "7", "6", "100", "16383") == b"+OK\r\n"
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "10", "12", "8", "9") == b"+OK\r\n"
        line = c.call("CLUSTER", "NODES").decode().rstrip("\n")
        assert line.split(" ")[8:] == ["5-12", "100", "16383"], line
        info = h.cluster_info(c)
        assert info["cluster_slots_assigned"] == str(8 + 1 + 1)


ADDSLOT_ERRORS = [
    (("CLUSTER", "ADDSLOTS", "16384"), b"-ERR Invalid or out of range slot\r\n"),
    (("CLUSTER", "ADDSLOTS", "-1"), b"-ERR Invalid or out of range slot\r\n"),
    (("CLUSTER", "ADDSLOTS", "abc"), b"-ERR Invalid or out of range slot\r\n"),
    (("CLUSTER", "ADDSLOTS", "1", "2", "1"), b"-ERR Slot 1 specified multiple times\r\n"),
    (("CLUSTER", "ADDSLOTS", "100"), b"-ERR Slot 100 is already busy\r\n"),
    (("CLUSTER", "ADDSLOTS", "3", "100"), b"-ERR Slot 100 is already busy\r\n"),
    (("CLUSTER", "ADDSLOTS", "3", "x"), b"-ERR Invalid or out of range slot\r\n"),
    (("CLUSTER", "ADDSLOTSRANGE", "5", "4"),
     b"-ERR start slot number 5 is greater than end slot number 4\r\n"),
    (("CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"),
     b"-ERR wrong number of arguments for 'cluster|addslotsrange' command\r\n"),
    (("CLUSTER", "ADDSLOTSRANGE", "1"),
     b"-ERR wrong number of arguments for 'cluster|addslotsrange' command\r\n"),
    (("CLUSTER", "ADDSLOTSRANGE", "0", "16384"), b"-ERR Invalid or out of range slot\r\n"),
    (("CLUSTER", "ADDSLOTSRANGE", "90", "110"), b"-ERR Slot 100 is already busy\r\n"),
    (("CLUSTER", "ADDSLOTSRANGE", "1", "3", "2", "4"), b"-ERR Slot 2 specified multiple times\r\n"),
    (("CLUSTER", "ADDSLOTS"), b"-ERR wrong number of arguments for 'cluster|addslots' command\r\n"),
    (("CLUSTER", "DELSLOTS", "200"), b"-ERR Slot 200 is already unassigned\r\n"),
    (("CLUSTER", "DELSLOTS", "100", "100"), b"-ERR Slot 100 specified multiple times\r\n"),
    (("CLUSTER", "DELSLOTS", "16384"), b"-ERR Invalid or out of range slot\r\n"),
    (("CLUSTER", "DELSLOTSRANGE", "100", "101"), b"-ERR Slot 101 is already unassigned\r\n"),
    (("CLUSTER", "DELSLOTSRANGE", "5", "4"),
     b"-ERR start slot number 5 is greater than end slot number 4\r\n"),
    (("CLUSTER", "DELSLOTSRANGE", "5"),
     b"-ERR wrong number of arguments for 'cluster|delslotsrange' command\r\n"),
]


def test_addslots_delslots_errors_change_nothing(node):
    with node.raw() as c:
        assert c.raw("CLUSTER", "ADDSLOTS", "100") == b"+OK\r\n"
        for args, expected in ADDSLOT_ERRORS:
            assert c.raw(*args) == expected, args
        # none of the failed commands assigned or removed anything
        info = h.cluster_info(c)
        assert info["cluster_slots_assigned"] == "1"
        assert c.call("CLUSTER", "NODES").decode().rstrip("\n").split(" ")[8:] == ["100"]


def test_delslots_and_delslotsrange(node):
    with node.raw() as c:
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK\r\n"
        assert c.raw("CLUSTER", "DELSLOTS", "5", "16383") == b"+OK\r\n"
        assert c.raw("CLUSTER", "DELSLOTSRANGE", "100", "199", "1000", "1000") == b"+OK\r\n"
        line = c.call("CLUSTER", "NODES").decode().rstrip("\n")
        assert line.split(" ")[8:] == ["0-4", "6-99", "200-999", "1001-16382"], line
        assert h.cluster_info(c)["cluster_slots_assigned"] == str(16384 - 2 - 100 - 1)
        slots = c.call("CLUSTER", "SLOTS")
        assert [(s[0], s[1]) for s in slots] == [(0, 4), (6, 99), (200, 999), (1001, 16382)]
        # re-adding a deleted slot works
        assert c.raw("CLUSTER", "ADDSLOTS", "5") == b"+OK\r\n"
        line = c.call("CLUSTER", "NODES").decode().rstrip("\n")
        assert line.split(" ")[8:] == ["0-99", "200-999", "1001-16382"], line


def test_flushslots(node):
    with node.raw() as c:
        h.own_all_slots(node)
        assert c.raw("SET", "foo", "bar") == b"+OK\r\n"
        assert c.raw("CLUSTER", "FLUSHSLOTS") == b"-ERR DB must be empty to perform CLUSTER FLUSHSLOTS.\r\n"
        assert h.cluster_info(c)["cluster_slots_assigned"] == "16384"
        assert c.raw("FLUSHALL") == b"+OK\r\n"
        assert c.raw("CLUSTER", "FLUSHSLOTS") == b"+OK\r\n"
        assert c.raw("CLUSTER", "SLOTS") == b"*0\r\n"
        assert h.cluster_info(c)["cluster_slots_assigned"] == "0"
        assert c.raw("GET", "foo") == b"-CLUSTERDOWN Hash slot not served\r\n"
        assert c.raw("CLUSTER", "FLUSHSLOTS", "x") == \
            b"-ERR wrong number of arguments for 'cluster|flushslots' command\r\n"


KEYSLOT_VECTORS = [
    (b"123456789", 12739), (b"{user1000}.following", 3443), (b"{user1000}.followers", 3443),
    (b"foo", 12182), (b"", 0), (b"a", 15495), (b"{a}b", 15495), (b"foo{}{bar}", 8363),
    (b"foo{{bar}}zap", 4015), (b"foo{bar}{zap}", 5061), (b"la2", 0), (b"emj", 1), (b"axh", 5),
    (b"{", None), (b"\x00\xff{\r\n}", None),
]


def test_keyslot_vectors(node):
    with node.raw() as c:
        for key, slot in KEYSLOT_VECTORS:
            expect = slot if slot is not None else h.key_slot(key)
            assert h.key_slot(key) == expect, key
            assert c.raw("CLUSTER", "KEYSLOT", key) == b":%d\r\n" % expect, key
        for i in range(300):
            key = b"key:%d:{tag%d}" % (i * 7919, i % 13)
            assert c.call("CLUSTER", "KEYSLOT", key) == h.key_slot(key), key
        assert c.raw("CLUSTER", "KEYSLOT") == \
            b"-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"
        assert c.raw("CLUSTER", "KEYSLOT", "a", "b") == \
            b"-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"


def test_countkeysinslot_and_getkeysinslot(snode):
    with snode.raw() as c:
        slot = h.key_slot(b"t")
        keys = {b"{t}%d" % i for i in range(10)}
        for k in keys:
            assert c.raw("SET", k, "v") == b"+OK\r\n"
        assert c.raw("SET", "other", "v") == b"+OK\r\n"
        assert c.raw("CLUSTER", "COUNTKEYSINSLOT", str(slot)) == b":10\r\n"
        assert c.raw("CLUSTER", "COUNTKEYSINSLOT", str((slot + 1) % 16384)) == b":0\r\n"
        got = c.call("CLUSTER", "GETKEYSINSLOT", str(slot), "100")
        assert sorted(got) == sorted(keys)
        got3 = c.call("CLUSTER", "GETKEYSINSLOT", str(slot), "3")
        assert len(got3) == 3 and set(got3) <= keys
        assert c.raw("CLUSTER", "GETKEYSINSLOT", str(slot), "0") == b"*0\r\n"
        assert c.raw("CLUSTER", "GETKEYSINSLOT", "1", "10") == b"*0\r\n"
        errors = [
            (("CLUSTER", "COUNTKEYSINSLOT", "16384"), b"-ERR Invalid slot\r\n"),
            (("CLUSTER", "COUNTKEYSINSLOT", "-1"), b"-ERR Invalid slot\r\n"),
            (("CLUSTER", "COUNTKEYSINSLOT", "x"), b"-ERR value is not an integer or out of range\r\n"),
            (("CLUSTER", "GETKEYSINSLOT", "16384", "1"), b"-ERR Invalid slot or number of keys\r\n"),
            (("CLUSTER", "GETKEYSINSLOT", "1", "-1"), b"-ERR Invalid slot or number of keys\r\n"),
            (("CLUSTER", "GETKEYSINSLOT", "x", "1"), b"-ERR value is not an integer or out of range\r\n"),
            (("CLUSTER", "GETKEYSINSLOT", "1", "y"), b"-ERR value is not an integer or out of range\r\n"),
            (("CLUSTER", "GETKEYSINSLOT", "1"),
             b"-ERR wrong number of arguments for 'cluster|getkeysinslot' command\r\n"),
        ]
        for args, expected in errors:
            assert c.raw(*args) == expected, args
        # deleting keys is reflected
        assert c.call("DEL", "{t}0", "{t}1") == 2
        assert c.raw("CLUSTER", "COUNTKEYSINSLOT", str(slot)) == b":8\r\n"


def test_set_config_epoch_rules(node):
    with node.raw() as c:
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "x") == \
            b"-ERR value is not an integer or out of range\r\n"
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "-1") == \
            b"-ERR Invalid config epoch specified: -1\r\n"
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "0") == b"+OK\r\n"
        info = h.cluster_info(c)
        assert (info["cluster_current_epoch"], info["cluster_my_epoch"]) == ("0", "0")
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "5") == b"+OK\r\n"
        info = h.cluster_info(c)
        assert (info["cluster_current_epoch"], info["cluster_my_epoch"]) == ("5", "5")
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "6") == \
            b"-ERR Node config epoch is already non-zero\r\n"
        line = c.call("CLUSTER", "NODES").decode()
        assert line.split(" ")[6] == "5", line
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH") == \
            b"-ERR wrong number of arguments for 'cluster|set-config-epoch' command\r\n"
        # epoch 5 is the highest known: BUMPEPOCH does nothing
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+STILL 5\r\n"


def test_bumpepoch(node):
    with node.raw() as c:
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+BUMPED 1\r\n"
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+STILL 1\r\n"
        info = h.cluster_info(c)
        assert (info["cluster_current_epoch"], info["cluster_my_epoch"]) == ("1", "1")
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "3") == \
            b"-ERR Node config epoch is already non-zero\r\n"
        assert c.raw("CLUSTER", "BUMPEPOCH", "x") == \
            b"-ERR wrong number of arguments for 'cluster|bumpepoch' command\r\n"
        # inside MULTI the status reply is queued and returned by EXEC
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+QUEUED\r\n"
        assert c.raw("EXEC") == b"*1\r\n+STILL 1\r\n"


def test_count_failure_reports(node):
    with node.raw() as c:
        me = myid(c)
        assert c.raw("CLUSTER", "COUNT-FAILURE-REPORTS", me) == b":0\r\n"
        unknown = "0123456789abcdef0123456789abcdef01234567"
        assert c.raw("CLUSTER", "COUNT-FAILURE-REPORTS", unknown) == \
            b"-ERR Unknown node %s\r\n" % unknown.encode()
        assert c.raw("CLUSTER", "COUNT-FAILURE-REPORTS", "abc") == b"-ERR Unknown node abc\r\n"


DISPATCH_ERRORS = [
    (("CLUSTER",), b"-ERR wrong number of arguments for 'cluster' command\r\n"),
    (("CLUSTER", "FOO"), b"-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"),
    (("CLUSTER", "myshardid"), b"-ERR unknown subcommand 'myshardid'. Try CLUSTER HELP.\r\n"),
    (("CLUSTER", "FOO", "bar"), b"-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"),
    (("CLUSTER", "NODES", "x"), b"-ERR wrong number of arguments for 'cluster|nodes' command\r\n"),
    (("CLUSTER", "INFO", "x"), b"-ERR wrong number of arguments for 'cluster|info' command\r\n"),
    (("CLUSTER", "MYID", "x"), b"-ERR wrong number of arguments for 'cluster|myid' command\r\n"),
    (("CLUSTER", "SLOTS", "x"), b"-ERR wrong number of arguments for 'cluster|slots' command\r\n"),
    (("CLUSTER", "SHARDS", "x"), b"-ERR wrong number of arguments for 'cluster|shards' command\r\n"),
    (("cluster", "Nodes", "x"), b"-ERR wrong number of arguments for 'cluster|nodes' command\r\n"),
    (("CLUSTER", "COUNT-FAILURE-REPORTS"),
     b"-ERR wrong number of arguments for 'cluster|count-failure-reports' command\r\n"),
    (("CLUSTER", "RESET", "a", "b"),
     b"-ERR unknown subcommand or wrong number of arguments for 'RESET'. Try CLUSTER HELP.\r\n"),
    (("CLUSTER", "RESET", "FOO"), b"-ERR syntax error\r\n"),
    (("CLUSTER", "MEET", "x"), b"-ERR wrong number of arguments for 'cluster|meet' command\r\n"),
]


def test_dispatch_and_arity_errors(node):
    with node.raw() as c:
        for args, expected in DISPATCH_ERRORS:
            assert c.raw(*args) == expected, args
        assert c.raw("PING") == b"+PONG\r\n"


def test_subcommand_names_are_case_insensitive(node):
    with node.raw() as c:
        assert c.call("cluster", "myid") == c.call("CLUSTER", "MYID") == c.call("Cluster", "MyId")
        assert c.raw("cluster", "keyslot", "foo") == b":12182\r\n"
        assert c.raw("CLUSTER", "addslotsrange", "1", "2") == b"+OK\r\n"


# Sub-commands that later work will implement. For arguments where redis-server
# itself answers an error, we accept any error reply starting with ERR; where
# redis-server answers something else, we accept that reply too. Never a crash or hang.
UNKNOWN = "0123456789abcdef0123456789abcdef01234567"
NOT_YET = [
    ("CLUSTER", "MEET", "1.2.3.4", "1", "2", "3"),
    ("CLUSTER", "MEET", "localhost", "7000"),
    ("CLUSTER", "MEET", "127.0.0.1", "abc"),
    ("CLUSTER", "MEET", "127.0.0.1", "70000"),
    ("CLUSTER", "FORGET", UNKNOWN),
    ("CLUSTER", "FORGET", "MYSELF"),
    ("CLUSTER", "REPLICATE", UNKNOWN),
    ("CLUSTER", "REPLICATE", "MYSELF"),
    ("CLUSTER", "FAILOVER"),
    ("CLUSTER", "FAILOVER", "FORCE"),
    ("CLUSTER", "FAILOVER", "TAKEOVER"),
    ("CLUSTER", "FAILOVER", "bogus"),
    ("CLUSTER", "SETSLOT", "1", "NODE", UNKNOWN),
    ("CLUSTER", "SETSLOT", "1", "MIGRATING", UNKNOWN),
    ("CLUSTER", "SETSLOT", "1", "IMPORTING", UNKNOWN),
    ("CLUSTER", "SETSLOT", "99999", "STABLE"),
    ("CLUSTER", "SETSLOT", "1", "BOGUS", "x"),
    ("CLUSTER", "REPLICAS", UNKNOWN),
    ("CLUSTER", "SLAVES", UNKNOWN),
]


def test_not_yet_implemented_subcommands_answer_errors(node):
    with node.raw(timeout=5) as c, node.raw(timeout=5) as other:
        me = myid(c)
        for args in NOT_YET:
            args = tuple(me if a == "MYSELF" else a for a in args)
            v = c.call(*args)
            assert isinstance(v, h.Error) and v.startswith("ERR "), (args, v)
            assert other.raw("PING") == b"+PONG\r\n", args
        # LINKS: redis answers an empty array on a lone node; an error is tolerated for now
        v = c.call("CLUSTER", "LINKS")
        assert v == [] or (isinstance(v, h.Error) and v.startswith("ERR ")), v
        # a valid MEET to a port nobody listens on: redis answers +OK; an error is tolerated
        free = h.free_port()
        v = c.call("CLUSTER", "MEET", "127.0.0.1", str(free))
        assert v == "OK" or (isinstance(v, h.Error) and v.startswith("ERR ")), v
        assert c.raw("PING") == b"+PONG\r\n"
        assert other.raw("CLUSTER", "MYID") == b"$40\r\n" + me.encode() + b"\r\n"


def test_reset_hard_changes_id_and_zeroes_epochs(node):
    with node.raw() as c:
        old = myid(c)
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "3") == b"+OK\r\n"
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "100") == b"+OK\r\n"
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+STILL 3\r\n"
        assert c.raw("CLUSTER", "RESET", "HARD") == b"+OK\r\n"
        new = myid(c)
        assert new != old and re.fullmatch(r"[0-9a-f]{40}", new)
        assert c.call("CLUSTER", "NODES").decode() == \
            f"{new} :{node.port}@{node.port + 10000} myself,master - 0 0 0 connected\n"
        info = h.cluster_info(c)
        assert info["cluster_current_epoch"] == "0"
        assert info["cluster_my_epoch"] == "0"
        assert info["cluster_slots_assigned"] == "0"
        assert info["cluster_known_nodes"] == "1"
        # the new id and epochs are what nodes.conf holds
        conf = node.nodes_conf.read_text()
        assert new in conf and old not in conf, conf
        assert "vars currentEpoch 0 lastVoteEpoch 0" in conf, conf
        # epochs may be set again after a hard reset
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "2") == b"+OK\r\n"


def test_reset_soft_keeps_id_and_drops_slots(node):
    with node.raw() as c:
        old = myid(c)
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "100") == b"+OK\r\n"
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+BUMPED 1\r\n"
        assert c.raw("CLUSTER", "RESET") == b"+OK\r\n"
        assert myid(c) == old
        assert h.cluster_info(c)["cluster_slots_assigned"] == "0"
        assert c.raw("CLUSTER", "RESET", "soft") == b"+OK\r\n"
        assert myid(c) == old
        info = h.cluster_info(c)
        assert info["cluster_current_epoch"] == "1"


def test_reset_with_keys_is_refused(node):
    with node.raw() as c:
        h.own_all_slots(node)
        old = myid(c)
        assert c.raw("SET", "k", "v") == b"+OK\r\n"
        for mode in ("HARD", "SOFT"):
            assert c.raw("CLUSTER", "RESET", mode) == \
                b"-ERR CLUSTER RESET can't be called with master nodes containing keys\r\n"
        assert myid(c) == old
        assert c.raw("GET", "k") == b"$1\r\nv\r\n"
        assert h.cluster_info(c)["cluster_slots_assigned"] == "16384"


def test_saveconfig(node):
    with node.raw() as c:
        assert c.raw("CLUSTER", "ADDSLOTS", "42") == b"+OK\r\n"
        assert c.raw("CLUSTER", "SAVECONFIG") == b"+OK\r\n"
        me = myid(c)
    conf = node.nodes_conf.read_text()
    mine = [ln for ln in conf.split("\n") if ln.startswith(me + " ")]
    assert len(mine) == 1 and mine[0].endswith(" connected 42"), conf


@pytest.mark.parametrize("n_args", [5463])
def test_addslots_with_thousands_of_arguments(node, n_args):
    # redis-cli --cluster create sends every slot as its own argument
    with node.raw(timeout=10) as c:
        args = [str(s) for s in range(n_args)]
        assert c.raw("CLUSTER", "ADDSLOTS", *args) == b"+OK\r\n"
        assert h.cluster_info(c)["cluster_slots_assigned"] == str(n_args)
        line = c.call("CLUSTER", "NODES").decode().rstrip("\n")
        assert line.split(" ")[8:] == [f"0-{n_args - 1}"]
