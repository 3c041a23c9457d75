"""GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms side by side
with redis-server 7.0.15.

What it is for: the area searches must find the same members in the same order (7.0.15's
cell search with its step estimate, its stable sort when every hit is returned and its
partial quicksort when COUNT cuts, ANY's first-found), with the same distances,
coordinates and hashes, the same error for each bad call (the first one in 7.0.15's order
of checks), in RESP2 and RESP3; the STORE forms write the same sorted sets (scores, TTL
gone, encoding) and delete the destination when nothing is found; the cluster key rules of
the STORE destination (CROSSSLOT), COMMAND INFO / DOCS / GETKEYS, keyspace events and
replication of the STORE forms are 7.0.15's too. Random point sets cover the poles, the
antimeridian, coincident points (ties) and both encodings.

What it must never do: normalise either side's bytes, or sort either side's replies.
"""
import random

import pytest

import diffhelpers as dh
import replhelpers as rh
from test_pubsub_notify import _compare as compare_events

POINTS = [("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
          ("12.758489", "38.788135", "edge1"), ("17.241510", "38.788135", "edge2"),
          ("-122.4194", "37.7749", "SF"), ("0", "0", "origin"), ("180", "85.05112878", "corner"),
          ("-180", "-85.05112878", "other-corner"), ("179.9999", "0.5", "east-edge"),
          ("-179.9999", "0.5", "west-edge"), ("2.3522", "48.8566", "Paris"), ("15", "37", "dup1"),
          ("15", "37", "dup2"), ("15", "37", "dup0"), ("139.6917", "35.6895", "Tokyo")]

G = "{g}pts"          # every key of a call in one slot: the nodes run in cluster mode
D = "{g}dst"


def _scenario():
    cmds = [("GEOADD", G, *[x for p in POINTS for x in p])]
    # the searches and their options
    for opts in [(), ("ASC",), ("DESC",), ("WITHDIST",), ("WITHCOORD", "WITHHASH"),
                 ("WITHHASH", "WITHDIST", "WITHCOORD", "DESC"), ("COUNT", "1"), ("COUNT", "2", "DESC"),
                 ("COUNT", "3", "ANY"), ("COUNT", "2", "ANY", "ASC"), ("count", "4", "any", "desc", "withdist"),
                 ("COUNT", "100"), ("ASC", "DESC"), ("COUNT", "1", "COUNT", "3")]:
        cmds += [("GEORADIUS", G, "15", "37", "200", "km", *opts),
                 ("GEORADIUS_RO", G, "15", "37", "200", "km", *opts),
                 ("GEORADIUSBYMEMBER", G, "Palermo", "300", "km", *opts),
                 ("GEORADIUSBYMEMBER_RO", G, "dup1", "300000", "m", *opts),
                 ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", *opts),
                 ("GEOSEARCH", G, "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", *opts),
                 ("GEOSEARCH", G, *opts, "BYBOX", "1000", "100", "mi", "FROMLONLAT", "15", "37")]
    cmds += [("GEOSEARCH", G, "FROMLONLAT", lon, lat, "BYRADIUS", r, u, "WITHDIST", "ASC")
             for lon, lat in [("180", "0"), ("-180", "0"), ("179.99", "85"), ("0", "-85.05112878"),
                              ("180", "85.05112878"), ("-180", "-85.05112878")]
             for r, u in [("0", "m"), ("1", "m"), ("100", "km"), ("3000", "km"), ("20000", "km"),
                          ("inf", "km"), ("1e300", "M"), ("40000", "mi")]]
    cmds += [("GEOSEARCH", G, "FROMLONLAT", "0", "0", "BYBOX", w, hgt, "km", "WITHCOORD")
             for w, hgt in [("0", "0"), ("1", "0"), ("40000", "1"), ("1", "40000"), ("inf", "inf"), ("45000", "20000")]]
    # the STORE forms: scores, distances, the encoding, the TTL, an empty result
    cmds += [("SET", D, "old"), ("EXPIRE", D, "1000"),
             ("GEORADIUS", G, "15", "37", "200", "km", "STORE", D), ("TYPE", D), ("TTL", D),
             ("ZRANGE", D, "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", D),
             ("GEORADIUS", G, "15", "37", "200", "km", "STOREDIST", D, "COUNT", "2"),
             ("ZRANGE", D, "0", "-1", "WITHSCORES"),
             ("GEORADIUSBYMEMBER", G, "Palermo", "300", "km", "STORE", "{g}x", "STOREDIST", D, "DESC"),
             ("ZRANGE", D, "0", "-1", "WITHSCORES"), ("EXISTS", "{g}x"),
             ("GEOSEARCHSTORE", D, G, "FROMLONLAT", "15", "37", "BYBOX", "500", "500", "km", "STOREDIST"),
             ("ZRANGE", D, "0", "-1", "WITHSCORES"),
             ("GEOSEARCHSTORE", D, G, "FROMMEMBER", "dup2", "BYRADIUS", "10", "km", "COUNT", "2"),
             ("ZRANGE", D, "0", "-1", "WITHSCORES"),
             ("GEOSEARCHSTORE", D, G, "FROMLONLAT", "-100", "-40", "BYRADIUS", "1", "m"), ("EXISTS", D),
             ("GEOSEARCHSTORE", D, G, "FROMLONLAT", "-100", "-40", "BYRADIUS", "1", "m"),
             ("GEOSEARCHSTORE", D, "{g}none", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"),
             ("GEOSEARCHSTORE", G, G, "FROMLONLAT", "15", "37", "BYRADIUS", "50", "km", "STOREDIST"),
             ("ZRANGE", G, "0", "-1", "WITHSCORES"),
             ("GEOADD", G, *[x for p in POINTS for x in p])]
    # a source that is missing or of another type
    cmds += [("GEORADIUS", "{g}none", "0", "0", "1", "km"), ("GEOSEARCH", "{g}none", "FROMMEMBER", "x", "BYRADIUS", "1", "km"),
             ("GEORADIUSBYMEMBER", "{g}none", "x", "nan", "yards", "WITHDIST"),
             ("GEORADIUSBYMEMBER", "{g}none", "x", "1", "km", "COUNT", "0"),
             ("SET", D, "v"), ("GEORADIUS", "{g}none", "0", "0", "1", "km", "STORE", D), ("EXISTS", D),
             ("SET", "{g}str", "v"), ("GEORADIUS", "{g}str", "x", "0", "1", "km"),
             ("GEOSEARCH", "{g}str", "BYRADIUS"), ("GEOSEARCHSTORE", D, "{g}str", "FROMLONLAT", "0", "0"),
             ("GEOSEARCHSTORE", "{g}str", G, "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km"), ("TYPE", "{g}str"),
             ("ZADD", "{g}z", "0", "zero", "-5", "neg", "4503599627370495", "top", "3.7", "frac", "1e20", "huge"),
             ("GEOSEARCH", "{g}z", "FROMMEMBER", "zero", "BYRADIUS", "20000", "km", "WITHHASH", "WITHCOORD"),
             ("GEORADIUS", "{g}z", "-180", "-85", "500", "km", "WITHHASH", "WITHDIST")]
    # errors, in 7.0.15's order of checks
    cmds += [("GEORADIUS", G, "abc", "37", "1", "km"), ("GEORADIUS", G, "181", "37", "1", "km"),
             ("GEORADIUS", G, "15", "86", "x", "km"), ("GEORADIUS", G, "15", "37", "x", "km"),
             ("GEORADIUS", G, "15", "37", "-1", "km"), ("GEORADIUS", G, "15", "37", "1", "yd"),
             ("GEORADIUS", G, "15", "37", "1", "km", "COUNT"), ("GEORADIUS", G, "15", "37", "1", "km", "COUNT", "0"),
             ("GEORADIUS", G, "15", "37", "1", "km", "COUNT", "-2"), ("GEORADIUS", G, "15", "37", "1", "km", "COUNT", "x"),
             ("GEORADIUS", G, "15", "37", "1", "km", "ANY"), ("GEORADIUS", G, "15", "37", "1", "km", "ANY", "bogus"),
             ("GEORADIUS", G, "15", "37", "1", "km", "STORE", D, "WITHDIST"),
             ("GEORADIUS", G, "15", "37", "1", "km", "STORE"), ("GEORADIUS_RO", G, "15", "37", "1", "km", "STORE", D),
             ("GEORADIUS_RO", G, "15", "37", "1", "km", "STOREDIST", D),
             ("GEORADIUS", G, "15", "37", "1", "km", "FROMLONLAT", "1", "1"),
             ("GEORADIUSBYMEMBER", G, "nobody", "1", "km"), ("GEORADIUSBYMEMBER", G, "nobody", "x", "yd"),
             ("GEORADIUSBYMEMBER", G, "Palermo", "1", "yd", "WITHDIST"),
             ("GEORADIUSBYMEMBER", G, "Palermo", "1", "km", "STOREDIST", D, "WITHHASH"),
             ("GEOSEARCH", G, "FROMMEMBER", "nobody", "BYRADIUS", "1", "km"),
             ("GEOSEARCH", G, "FROMMEMBER", "nobody", "BYRADIUS", "x", "km"),
             ("GEOSEARCH", G, "BYRADIUS", "x", "km", "FROMMEMBER", "nobody"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"),
             ("GEOSEARCH", G, "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"),
             ("GEOSEARCH", G, "FROMMEMBER", "Palermo", "FROMMEMBER", "Catania", "BYRADIUS", "1", "km"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYRADIUS", "300", "km"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYBOX", "x", "y", "km"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYBOX", "1", "y", "km"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYBOX", "1", "-1", "yd"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYBOX", "1", "1"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", D),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST"),
             ("GEOSEARCH", G, "BYRADIUS", "1", "km", "ASC", "WITHDIST"), ("geosearch", G, "BYRADIUS", "1", "km", "ASC"),
             ("GeoSearch", G, "FROMLONLAT", "1", "2", "WITHDIST"), ("GEOSEARCH", G, "FROMMEMBER", "x", "ANY"),
             ("GEOSEARCH", G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY"),
             ("GEOSEARCHSTORE", D, G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "WITHCOORD"),
             ("geosearchstore", D, G, "BYRADIUS", "1", "km", "WITHDIST", "STOREDIST"),
             ("GEOSEARCHSTORE", D, G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "x"),
             ("GEOSEARCHSTORE", D, G, "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT", "1", "ANY", "storedist"),
             ("GEORADIUS", G, "15", "37", "1"), ("GEORADIUSBYMEMBER", G, "x", "1"), ("GEOSEARCH", G, "a", "b", "c", "d"),
             ("GEOSEARCHSTORE", D, G, "FROMLONLAT", "15", "37", "BYRADIUS", "1")]
    return cmds


@pytest.mark.parametrize("proto", [2, 3])
def test_searches_and_errors_as_redis(snode, sref, proto):
    dh.assert_same(snode, sref, _scenario(), proto)


# --- random point sets -----------------------------------------------------------------

REGIONS = {
    "world": lambda r: (r.uniform(-180, 180), r.uniform(-85.05112878, 85.05112878)),
    "north": lambda r: (r.uniform(-180, 180), r.uniform(75, 85.05112878)),
    "south": lambda r: (r.uniform(-180, 180), r.uniform(-85.05112878, -70)),
    "antimeridian": lambda r: (r.choice([-1, 1]) * r.uniform(170, 180), r.uniform(-30, 30)),
    "city": lambda r: (r.gauss(2.35, 0.05), r.gauss(48.85, 0.05)),
}


def _point(rng, region):
    lon, lat = REGIONS[region](rng)
    lon = max(-180.0, min(180.0, lon))
    lat = max(-85.05112878, min(85.05112878, lat))
    return f"{lon!r}", f"{lat!r}"


def _distance_arg(rng):
    unit = rng.choice(["m", "km", "ft", "mi", "KM"])
    meters = 10 ** rng.uniform(0, 7.4)
    scale = {"m": 1, "km": 1000, "KM": 1000, "ft": 0.3048, "mi": 1609.34}[unit]
    return f"{meters / scale:.6g}", unit


def _options(rng, store):
    """Random option groups in a random order (COUNT n [ANY] kept together)."""
    groups = []
    if not store:
        groups += [(w,) for w in ("WITHCOORD", "WITHDIST", "WITHHASH") if rng.random() < 0.4]
    r = rng.random()
    if r < 0.55:
        groups.append(("ASC",) if r < 0.3 else ("DESC",))
    if rng.random() < 0.5:
        count = ("COUNT", str(rng.choice([1, 2, 3, 5, 10, 40, 200])))
        groups.append(count + (("ANY",) if rng.random() < 0.3 else ()))
    rng.shuffle(groups)
    return [x for g in groups for x in g]


def _random_searches(seed, n_points, regions, n_searches):
    rng = random.Random(seed)
    key = "{g}r"
    cmds = []
    names = []
    for i in range(n_points):
        lon, lat = _point(rng, rng.choice(regions))
        name = f"p{i}"
        names.append(name)
        cmds.append(("GEOADD", key, lon, lat, name))
        if rng.random() < 0.08:   # a point at the same place: equal distances
            names.append(f"p{i}b")
            cmds.append(("GEOADD", key, lon, lat, f"p{i}b"))
    cmds.append(("OBJECT", "ENCODING", key))
    for _ in range(n_searches):
        region = rng.choice(regions)
        member = rng.choice(names)
        lon, lat = _point(rng, region)
        dist = _distance_arg(rng)
        store = rng.random() < 0.15
        opts = _options(rng, store)
        kind = rng.randrange(6)
        if kind == 0:
            cmds.append(("GEORADIUS", key, lon, lat, *dist, *opts) +
                        (("STORE" if rng.random() < 0.5 else "STOREDIST", "{g}d") if store else ()))
        elif kind == 1:
            cmds.append(("GEORADIUSBYMEMBER", key, member, *dist, *opts) +
                        (("STOREDIST" if rng.random() < 0.5 else "STORE", "{g}d") if store else ()))
        elif kind == 2:
            if rng.random() < 0.5:
                cmds.append(("GEORADIUS_RO", key, lon, lat, *dist, *opts))
            else:
                cmds.append(("GEORADIUSBYMEMBER_RO", key, member, *dist, *opts))
        else:
            frm = ("FROMMEMBER", member) if rng.random() < 0.5 else ("FROMLONLAT", lon, lat)
            if rng.random() < 0.5:
                by = ("BYRADIUS", *dist)
            else:
                w, unit = _distance_arg(rng)
                hgt, _ = _distance_arg(rng)
                by = ("BYBOX", w, hgt, unit)
            if store:
                cmds.append(("GEOSEARCHSTORE", "{g}d", key, *frm, *by, *opts) +
                            (("STOREDIST",) if rng.random() < 0.5 else ()))
            else:
                cmds.append(("GEOSEARCH", key, *frm, *by, *opts))
        if store:
            cmds += [("ZRANGE", "{g}d", "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", "{g}d")]
    return cmds


@pytest.mark.parametrize("seed,n_points,regions", [
    (1, 60, ["world"]), (2, 400, ["world"]), (3, 300, ["north", "south"]),
    (4, 300, ["antimeridian"]), (5, 500, ["city"]), (6, 120, ["north", "antimeridian", "city"]),
    (7, 2000, ["world", "city", "south"]),
])
def test_random_point_sets_as_redis(snode, sref, seed, n_points, regions):
    cmds = _random_searches(seed, n_points, regions, 400)
    for proto in (2, 3):
        with snode.raw() as c:
            c.call("DEL", "{g}r", "{g}d")
        with sref.raw() as c:
            c.call("DEL", "{g}r", "{g}d")
        dh.assert_same(snode, sref, cmds, proto, pipeline=True)


def test_count_ties_as_redis(snode, sref):
    """Many points at a few places: COUNT below the hits takes 7.0.15's partial sort,
    whose order of equal distances is not the order found; all hits take a stable sort."""
    cmds = []
    rng = random.Random(11)
    for i in range(300):
        lon, lat = rng.choice([("10", "10"), ("10.01", "10"), ("10", "10.01"), ("9.99", "9.99")])
        cmds.append(("GEOADD", "{g}t", lon, lat, f"m{rng.randrange(1000)}"))
    for count in (1, 2, 5, 6, 7, 8, 20, 41, 60, 100, 150, 299, 1000):
        for order in ("ASC", "DESC"):
            cmds.append(("GEOSEARCH", "{g}t", "FROMLONLAT", "10.003", "10.002", "BYRADIUS", "100", "km",
                         "COUNT", str(count), order))
            cmds.append(("GEORADIUS", "{g}t", "10", "10", "5", "km", "COUNT", str(count), order, "WITHDIST"))
    cmds.append(("GEOSEARCH", "{g}t", "FROMLONLAT", "10", "10", "BYBOX", "5", "5", "km", "ASC"))
    dh.assert_same(snode, sref, cmds, 2, pipeline=True)


# --- cluster key rules, COMMAND --------------------------------------------------------

def test_store_key_rules_as_redis(snode, sref):
    """The STORE destination is a key: in another slot it is CROSSSLOT, unless a later
    STORE/STOREDIST names one in the source's slot (7.0.15 routes by the last)."""
    cmds = [("GEOADD", "{a}src", "1", "1", "m"),
            ("GEORADIUS", "{a}src", "1", "1", "10", "km", "STORE", "{b}dst"),
            ("GEORADIUS", "{a}src", "1", "1", "10", "km", "STOREDIST", "{b}dst"),
            ("GEORADIUSBYMEMBER", "{a}src", "m", "10", "km", "STORE", "{b}dst"),
            ("GEORADIUS", "{a}src", "1", "1", "10", "km", "STORE", "{b}dst", "STORE", "{a}dst"),
            ("ZRANGE", "{a}dst", "0", "-1", "WITHSCORES"),
            ("GEORADIUS", "{a}src", "1", "1", "10", "km", "STORE", "{a}dst", "STOREDIST", "{b}dst"),
            ("GEOSEARCHSTORE", "{b}dst", "{a}src", "FROMLONLAT", "1", "1", "BYRADIUS", "10", "km"),
            ("GEORADIUS_RO", "{a}src", "1", "1", "10", "km", "STORE", "{b}dst"),
            ("GEORADIUS", "{a}src", "1", "1", "10", "km", "COUNT", "STORE", "{b}dst")]
    getkeys = [("georadius", "k", "0", "0", "1", "km", "STORE", "a"),
               ("georadius", "k", "0", "0", "1", "km", "STORE", "a", "STOREDIST", "b"),
               ("georadius", "k", "0", "0", "1", "km", "STOREDIST", "b", "store", "a"),
               ("georadius", "k", "0", "0", "1", "km", "STORE"), ("georadius", "k", "0", "0", "1", "STORE", "x"),
               ("georadiusbymember", "k", "m", "1", "km", "STOREDIST", "x"),
               ("georadiusbymember", "k", "m", "1", "STORE", "x"), ("georadius_ro", "k", "0", "0", "1", "km"),
               ("georadiusbymember_ro", "k", "m", "1", "km"),
               ("geosearch", "k", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
               ("geosearchstore", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km")]
    cmds += [("COMMAND", sub, *g) for g in getkeys for sub in ("GETKEYS", "GETKEYSANDFLAGS")]
    for proto in (2, 3):
        dh.assert_same(snode, sref, cmds, proto)
    with snode.raw() as c:
        assert c.call("GEORADIUS", "{a}src", "1", "1", "10", "km", "STORE", "{b}dst").startswith("CROSSSLOT")


GEO_COMMANDS = ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember",
                "georadiusbymember_ro", "geosearch", "geosearchstore"]


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs_as_redis(snode, sref, proto):
    cmds = [("COMMAND", "INFO", n) for n in GEO_COMMANDS] + [("COMMAND", "DOCS", n) for n in GEO_COMMANDS]
    cmds += [("COMMAND", "LIST", "FILTERBY", "ACLCAT", "geo"), ("COMMAND", "COUNT")]
    got = dh.run(snode, cmds[:-2], proto)
    assert got == dh.run(sref, cmds[:-2], proto)
    with snode.raw() as s, sref.raw() as r:
        assert sorted(s.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "geo")) == \
            sorted(r.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "geo"))


# --- events and replication of the STORE forms ------------------------------------------

def test_store_events_as_redis(servers):
    cmds = [("GEOADD", "{e}s", "1", "1", "a", "1.001", "1", "b"), ("GEOADD", "{e}s", "1", "1", "a"),
            ("GEOADD", "{e}s", "CH", "2", "2", "a"),
            ("GEORADIUS", "{e}s", "1", "1", "500", "km"),
            ("GEORADIUS", "{e}s", "1", "1", "500", "km", "STORE", "{e}d"),
            ("GEORADIUS", "{e}s", "1", "1", "500", "km", "STOREDIST", "{e}d"),
            ("GEORADIUSBYMEMBER", "{e}s", "a", "500", "km", "STORE", "{e}d2"),
            ("GEOSEARCHSTORE", "{e}d3", "{e}s", "FROMMEMBER", "b", "BYRADIUS", "1", "km"),
            ("GEOSEARCHSTORE", "{e}d3", "{e}s", "FROMMEMBER", "b", "BYBOX", "1", "1", "km", "STOREDIST"),
            ("GEOSEARCHSTORE", "{e}d3", "{e}s", "FROMLONLAT", "-50", "-50", "BYRADIUS", "1", "km"),
            ("GEOSEARCHSTORE", "{e}d3", "{e}s", "FROMLONLAT", "-50", "-50", "BYRADIUS", "1", "km"),
            ("GEORADIUS", "{e}s", "-50", "-50", "1", "km", "STORE", "{e}d"),
            ("GEORADIUS", "{e}none", "0", "0", "1", "km", "STORE", "{e}d2"),
            ("GEORADIUS", "{e}s", "1", "1", "500", "km", "STORE", "{e}s")]
    msgs = compare_events(servers, "KEA", cmds)
    assert (b"__keyevent@0__:georadiusstore", b"{e}d") in msgs
    assert (b"__keyevent@0__:geosearchstore", b"{e}d3") in msgs


def _geo_writes(seed, n):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        lon, lat = _point(rng, rng.choice(["world", "city", "north"]))
        if r < 0.5:
            out.append(("GEOADD", "{r}s", lon, lat, f"m{rng.randrange(300)}"))
        elif r < 0.65:
            out.append(("GEORADIUS", "{r}s", lon, lat, *_distance_arg(rng), "COUNT", str(rng.randint(1, 50)),
                        rng.choice(["STORE", "STOREDIST"]), f"{{r}}d{rng.randrange(3)}"))
        elif r < 0.8:
            out.append(("GEORADIUSBYMEMBER", "{r}s", f"m{rng.randrange(300)}", *_distance_arg(rng),
                        rng.choice(["STORE", "STOREDIST"]), f"{{r}}d{rng.randrange(3)}"))
        else:
            out.append(("GEOSEARCHSTORE", f"{{r}}d{rng.randrange(3)}", "{r}s", "FROMLONLAT", lon, lat,
                        "BYBOX", *_distance_arg(rng)[:1], *_distance_arg(rng), "STOREDIST"))
    return out


def _geo_keys(server):
    with server.raw(timeout=20) as c:
        c.call("READONLY")
        return {k: c.raw("ZRANGE", k, "0", "-1", "WITHSCORES") for k in ("{r}s", "{r}d0", "{r}d1", "{r}d2")}


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "shoal"), ("shoal", "redis"), ("redis", "shoal")])
def test_store_forms_replicate(servers, master_kind, replica_kind):
    """The STORE forms travel as the call itself (7.0.15 propagates it unchanged), half in
    the full sync's RDB, half in the command stream; the replica ends with the master's
    destinations."""
    cmds = _geo_writes(31, 1200)
    half = len(cmds) // 2
    master, replica, _ = rh.make_pair(servers, master_kind, replica_kind,
                                      writes_before=lambda m: dh.pipelined(m, cmds[:half]))
    dh.pipelined(master, cmds[half:])
    rh.wait_offsets_equal(master, replica)
    want = _geo_keys(master)
    assert sum(v.count(b"\r\n") for v in want.values()) > 100
    assert _geo_keys(replica) == want

