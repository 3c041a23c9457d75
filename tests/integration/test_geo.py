"""GEOADD, GEOPOS, GEODIST and GEOHASH side by side with redis-server 7.0.15.

What it is for: applications that keep points in sorted sets with the geo commands. The
replies (scores as 52-bit geohashes, coordinates as %.17Lf with trailing zeros cut,
distances with 4 decimals, 11-character geohash strings, error texts) must be 7.0.15's
byte for byte, in RESP2 and RESP3; ZSCORE shows the stored hash itself.

What it must never do: normalise either side's bytes.
"""
import random

import pytest

import diffhelpers as dh

POINTS = [("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
          ("-122.4194", "37.7749", "SF"), ("0", "0", "origin"), ("180", "85.05112878", "corner"),
          ("-180", "-85.05112878", "other-corner"), ("2.3522", "48.8566", "Paris"),
          ("139.6917", "35.6895", "Tokyo"), ("-0.000001", "0.000001", "tiny"),
          ("151.2093", "-33.8688", "Sydney")]


def _scenario():
    cmds = [("GEOADD", "g", *[x for p in POINTS for x in p])]
    names = [p[2] for p in POINTS]
    cmds += [("ZSCORE", "g", n) for n in names]
    cmds += [("GEOPOS", "g", *names, "missing"), ("GEOHASH", "g", *names, "missing"),
             ("GEOPOS", "nokey", "a"), ("GEOHASH", "nokey", "a", "b")]
    for a in names:
        for b in ("Palermo", "SF", "corner", "tiny"):
            cmds.append(("GEODIST", "g", a, b))
        cmds.append(("GEODIST", "g", a, "Sydney", "km"))
    cmds += [("GEODIST", "g", "Palermo", "Catania", u) for u in ("m", "KM", "ft", "Mi")]
    cmds += [("GEODIST", "g", "Palermo", "missing"), ("GEODIST", "nokey", "a", "b"),
             ("GEODIST", "g", "Palermo", "Catania", "yards"),
             ("GEODIST", "g", "Palermo", "Catania", "km", "extra")]
    # options and their errors
    cmds += [("GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo", "1", "1", "new1"),
             ("GEOADD", "g", "XX", "CH", "13.4", "38.1", "Palermo", "1", "1", "absent"),
             ("GEOADD", "g", "CH", "13.5", "38.2", "Palermo"),
             ("GEOADD", "g", "ch", "nx", "13.6", "38.3", "Palermo"),
             ("GEOADD", "g", "NX", "XX", "1", "1", "x"),
             ("GEOADD", "g", "1", "1"), ("GEOADD", "g", "1", "1", "a", "2"),
             ("GEOADD", "g", "abc", "1", "x"), ("GEOADD", "g", "1", "nan", "x"),
             ("GEOADD", "g", "181", "1", "x"), ("GEOADD", "g", "1", "86", "x"),
             ("GEOADD", "g", "-180.0000001", "0", "x"), ("GEOADD", "g", "1", "1", "ok", "200", "0", "bad"),
             ("GEOADD", "g", "NX", "CH", "XX"), ("GEOADD", "g", "nx", "ch", "ch"),
             ("GEOADD",), ("GEOPOS", "g"), ("GEOHASH",), ("GEODIST", "g", "a"),
             ("ZSCORE", "g", "new1"), ("ZSCORE", "g", "absent"), ("ZSCORE", "g", "ok"),
             ("ZCARD", "g"), ("GEOPOS", "g", "Palermo", "new1")]
    # a sorted set not written by GEOADD, and a key of another type
    cmds += [("ZADD", "z", "0", "zero", "-5", "neg", "4503599627370495", "top", "1e20", "huge", "3.7", "frac"),
             ("GEOPOS", "z", "zero", "neg", "top", "huge", "frac"), ("GEOHASH", "z", "zero", "top", "frac"),
             ("GEODIST", "z", "zero", "top"), ("SET", "s", "v"), ("GEOPOS", "s", "a"),
             ("GEOHASH", "s", "a"), ("GEODIST", "s", "a", "b"), ("GEOADD", "s", "1", "1", "a")]
    return cmds


@pytest.mark.parametrize("proto", [2, 3])
def test_geo_commands_as_redis(snode, sref, proto):
    dh.assert_same(snode, sref, _scenario(), proto)


def test_geo_random_points_as_redis(snode, sref):
    rng = random.Random(7015)
    cmds = []
    for i in range(300):
        lon = rng.uniform(-180, 180)
        lat = rng.uniform(-85.05112878, 85.05112878)
        cmds.append(("GEOADD", "r", f"{lon!r}", f"{lat!r}", f"m{i}"))
    names = [f"m{i}" for i in range(300)]
    cmds += [("GEOPOS", "r", *names), ("GEOHASH", "r", *names)]
    cmds += [("ZSCORE", "r", n) for n in names]
    cmds += [("GEODIST", "r", names[i], names[(i * 7 + 3) % 300], rng.choice(["m", "km", "ft", "mi"]))
             for i in range(300)]
    for proto in (2, 3):
        dh.assert_same(snode, sref, cmds, proto, pipeline=True)
