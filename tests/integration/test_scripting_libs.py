"""The Lua libraries scripts may use (issue 15): cjson, cmsgpack, bit and struct, compared with
redis-server 7.0.15 reply byte for reply byte.

What it is for: each case runs the same script on our node and on a real redis-server
(both one-node clusters owning every slot) and compares the reply bytes: number
formatting, nested and empty tables, sparse arrays, configuration calls, integer
widths and alignment, and the error texts of invalid input.

What it must never do: weaken an expectation to match our node; the reference server is
the contract.
"""
import pytest

LIB_CASES = [
    # cjson encode
    ("cj_enc_num", "return cjson.encode({1, 2.5, -0.1, 1e20, 123456789012345678, 1/3, 3.14159265358979})"),
    ("cj_enc_small", "return cjson.encode({1e-7, 0.1, 100, 1e14, 1e15, -1e300})"),
    ("cj_enc_nested", "return cjson.encode({a = {b = {c = {1, 2, {d = 'x'}}}}})"),
    ("cj_enc_empty", "return cjson.encode({})"),
    ("cj_enc_str", "return cjson.encode('a\"b\\\\c\\n\\t\\1/\\127é')"),
    ("cj_enc_bool_nil", "return cjson.encode({true, false, cjson.null})"),
    ("cj_enc_sparse_ok", "return cjson.encode({[1] = 'a', [2] = 'b', [4] = 'd'})"),
    ("cj_enc_sparse_bad", "return cjson.encode({[1] = 'a', [20] = 'b'})"),
    ("cj_enc_mixed_keys", "return cjson.encode({[1] = 'a', x = 'b'})"),
    ("cj_enc_num_key", "return cjson.encode({[1.5] = 'a'})"),
    ("cj_enc_func", "return cjson.encode({f = function() end})"),
    ("cj_enc_nan", "return cjson.encode(0/0)"),
    ("cj_enc_inf", "return cjson.encode(1/0)"),
    ("cj_enc_deep", "local t = {} local c = t for i = 1, 1100 do c[1] = {} c = c[1] end return cjson.encode(t)"),
    ("cj_enc_keep_buffer", "cjson.encode_keep_buffer(false) local a = cjson.encode({1}) cjson.encode_keep_buffer(true) return a"),
    ("cj_enc_precision", "local old = cjson.encode_number_precision(3) local s = cjson.encode(math.pi) cjson.encode_number_precision(old) return {old, s}"),
    ("cj_enc_precision_bad", "return cjson.encode_number_precision(20)"),
    ("cj_enc_sparse_cfg", "return {cjson.encode_sparse_array()}"),
    ("cj_enc_sparse_convert", "cjson.encode_sparse_array(true) local s = cjson.encode({[1]='a',[20]='b'}) cjson.encode_sparse_array(false) return s"),
    ("cj_enc_invalid_cfg", "return {cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers(), cjson.encode_max_depth(), cjson.decode_max_depth()}"),
    ("cj_enc_args", "return cjson.encode()"),
    ("cj_meta", "return {cjson._NAME, cjson._VERSION, type(cjson.null), type(cjson.new)}"),
    # cjson decode
    ("cj_dec_basic", "local t = cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":1.5e3}') return {t.a[1], t.a[2], tostring(t.a[3].b == cjson.null), tostring(t.c), t.d}"),
    ("cj_dec_roundtrip", "return cjson.encode(cjson.decode('[1,\"x\",{\"k\":[]},[],{}]'))"),
    ("cj_dec_bad", "return cjson.decode('{bad}')"),
    ("cj_dec_trailing", "return cjson.decode('[1,2] x')"),
    ("cj_dec_empty", "return cjson.decode('')"),
    ("cj_dec_unicode", "return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')"),
    ("cj_dec_bad_unicode", "return cjson.decode('\"\\\\ud83d\"')"),
    ("cj_dec_big", "return tostring(cjson.decode('12345678901234567890'))"),
    ("cj_dec_hex", "return tostring(cjson.decode('0x10'))"),
    ("cj_dec_nan", "return tostring(cjson.decode('nan'))"),
    ("cj_dec_inf", "return tostring(cjson.decode('-Infinity'))"),
    ("cj_dec_deep", "return cjson.decode(string.rep('[', 1100) .. string.rep(']', 1100))"),
    ("cj_dec_num_table", "return cjson.decode(123)"),
    ("cj_dec_nil", "return cjson.decode()"),
    ("cj_dec_ctrl", "return cjson.decode('\"a\\1b\"')"),
    ("cj_readonly", "cjson.encode = nil"),
    # bit
    ("bit_ops", "return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678)}"),
    ("bit_tohex", "return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.tohex(0x12345678, 9)}"),
    ("bit_tobit", "return {bit.tobit(0xffffffff), bit.tobit(2^32 + 5), bit.tobit(-1.5), bit.tobit(1.5)}"),
    ("bit_bad", "return bit.band('x')"),
    ("bit_none", "return bit.band()"),
    # cmsgpack
    ("mp_ints", "local t = {} for _, n in ipairs({0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, 2^53, -2^53}) do t[#t+1] = cmsgpack.pack(n) end return t"),
    ("mp_floats", "return {cmsgpack.pack(1.5), cmsgpack.pack(0.1), cmsgpack.pack(-2.25), cmsgpack.pack(1e300), cmsgpack.pack(2^63), cmsgpack.pack(-2^63), cmsgpack.pack(1/0), cmsgpack.pack(-1/0)}"),
    ("mp_strings", "return {cmsgpack.pack(''), cmsgpack.pack(string.rep('a', 31)), cmsgpack.pack(string.rep('a', 32)), #cmsgpack.pack(string.rep('a', 256)), #cmsgpack.pack(string.rep('a', 70000)), cmsgpack.pack(string.rep('b', 256)):sub(1, 4)}"),
    ("mp_misc", "return {cmsgpack.pack(true), cmsgpack.pack(false), cmsgpack.pack(nil), cmsgpack.pack(function() end)}"),
    ("mp_tables", "return {cmsgpack.pack({}), cmsgpack.pack({1, 2, 3}), cmsgpack.pack({a = 1}), cmsgpack.pack({[1] = 1, [3] = 3}), cmsgpack.pack({1, {2, {3}}})}"),
    ("mp_big_array", "local t = {} for i = 1, 20 do t[i] = i end local u = {} for i = 1, 70000 do u[i] = 1 end return {cmsgpack.pack(t), #cmsgpack.pack(u), cmsgpack.pack(u):sub(1, 5)}"),
    ("mp_big_map", "local t = {} for i = 1, 20 do t['k' .. i] = 1 end return #cmsgpack.pack(t)"),
    ("mp_nesting", "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)"),
    ("mp_cycle", "local t = {} t[1] = t return cmsgpack.pack(t)"),
    ("mp_multi", "return cmsgpack.pack(1, 'a', {2})"),
    ("mp_none", "return cmsgpack.pack()"),
    ("mp_roundtrip", "local a, b, c = cmsgpack.unpack(cmsgpack.pack({1, 2, {x = 'y'}}, 'str', -5)) return {a[1], a[2], a[3].x, b, c}"),
    ("mp_unpack_types", "local s = cmsgpack.pack(1.5, true, false, 0.1, -129, 4294967296, -2147483649) local t = {cmsgpack.unpack(s)} for i = 1, #t do t[i] = tostring(t[i]) end return t"),
    ("mp_unpack_u64", "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))"),
    ("mp_unpack_i64", "return tostring(cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\1'))"),
    ("mp_unpack_missing", "return cmsgpack.unpack('\\146\\1')"),
    ("mp_unpack_badfmt", "return cmsgpack.unpack('\\193')"),
    ("mp_unpack_bin", "return cmsgpack.unpack('\\196\\1a')"),
    ("mp_unpack_empty", "return {cmsgpack.unpack('')}"),
    ("mp_unpack_one", "local s = cmsgpack.pack(1, 2, 3) return {cmsgpack.unpack_one(s), cmsgpack.unpack_one(s, 1), cmsgpack.unpack_one(s, 2)}"),
    ("mp_unpack_one_offsets", "local s = cmsgpack.pack(1, 2, 3) local o1, v1 = cmsgpack.unpack_one(s) local o2, v2 = cmsgpack.unpack_one(s, o1) local o3, v3 = cmsgpack.unpack_one(s, o2) return {o1, v1, o2, v2, o3, v3}"),
    ("mp_unpack_limit", "local s = cmsgpack.pack(1, 2, 3, 4) return {cmsgpack.unpack_limit(s, 2)}"),
    ("mp_unpack_limit_off", "local s = cmsgpack.pack(1, 2, 3, 4) return {cmsgpack.unpack_limit(s, 5, 1)}"),
    ("mp_unpack_neg", "return cmsgpack.unpack_limit('abc', -1)"),
    ("mp_unpack_far", "return cmsgpack.unpack_one('abc', 10)"),
    ("mp_unpack_bad_arg", "return cmsgpack.unpack({})"),
    ("mp_unpack_str8", "return {cmsgpack.unpack('\\217\\3abc'), cmsgpack.unpack('\\218\\0\\2xy'), cmsgpack.unpack('\\219\\0\\0\\0\\1z')}"),
    ("mp_unpack_map", "local t = cmsgpack.unpack('\\130\\161a\\1\\161b\\2') return {t.a, t.b}"),
    ("mp_unpack_ints", "return {cmsgpack.unpack('\\204\\200'), cmsgpack.unpack('\\205\\1\\0'), cmsgpack.unpack('\\206\\1\\0\\0\\0'), cmsgpack.unpack('\\208\\128'), cmsgpack.unpack('\\209\\128\\0'), cmsgpack.unpack('\\210\\128\\0\\0\\0'), cmsgpack.unpack('\\255'), cmsgpack.unpack('\\224')}"),
    ("mp_meta", "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}"),
    # struct
    ("st_pack", "return {struct.pack('>I2', 258), struct.pack('<I2', 258), struct.pack('b', -1), struct.pack('>i4', -2), struct.pack('>l', 1), struct.pack('<h', -300)}"),
    ("st_pack_align", "return {struct.pack('!4 b i4', 1, 2), struct.pack('!8 b d', 1, 1.5), struct.pack('!2 b h b i', 1, 2, 3, 4)}"),
    ("st_pack_str", "return {struct.pack('s', 'ab'), struct.pack('c0', 'xyz'), struct.pack('c2', 'xyz'), struct.pack('>fd', 1.5, -2.5)}"),
    ("st_pack_wide", "return {struct.pack('>i12', -1), struct.pack('<I10', 2^40)}"),
    ("st_pack_short_str", "return struct.pack('c5', 'ab')"),
    ("st_pack_bad_opt", "return struct.pack('z', 1)"),
    ("st_pack_bad_align", "return struct.pack('!3', 1)"),
    ("st_pack_too_wide", "return struct.pack('i33', 1)"),
    ("st_pack_missing", "return struct.pack('i')"),
    ("st_pack_overflow", "return struct.pack('i99999999999', 1)"),
    ("st_unpack", "return {struct.unpack('>I2', '\\1\\2'), struct.unpack('<i2', '\\255\\255')}"),
    ("st_unpack_all", "local a, b, c, d = struct.unpack('>bhs', '\\255\\1\\2ab\\0') return {a, b, c, d}"),
    ("st_unpack_c0", "return {struct.unpack('b c0', '\\3abcd')}"),
    ("st_unpack_c0_bad", "return {struct.unpack('c0', 'abcd')}"),
    ("st_unpack_short", "return {struct.unpack('>i4', 'ab')}"),
    ("st_unpack_offset", "return {struct.unpack('b', 'abc', 2)}"),
    ("st_unpack_offset0", "return {struct.unpack('b', 'abc', 0)}"),
    ("st_unpack_offset_neg", "return {struct.unpack('b', 'abc', -1)}"),
    ("st_unpack_unfinished", "return {struct.unpack('s', 'abc')}"),
    ("st_unpack_float", "return {tostring(struct.unpack('>f', struct.pack('>f', 0.1))), tostring(struct.unpack('<d', struct.pack('<d', 0.1)))}"),
    ("st_unpack_wide", "return {struct.unpack('>i12', struct.pack('>i12', -5))}"),
    ("st_unpack_x", "return {struct.unpack('xxb', 'abc')}"),
    ("st_size", "return {struct.size('>i4'), struct.size('!8 b d'), struct.size('bhlT'), struct.size('c10'), struct.size('z')}"),
    ("st_size_s", "return struct.size('s')"),
    ("st_size_c0", "return struct.size('c0')"),
    ("st_size_bad", "return struct.size('#')"),
]


def _run(server, script):
    with server.raw() as c:
        return c.raw("EVAL", script, "0")


@pytest.mark.parametrize("name,script", LIB_CASES, ids=[c[0] for c in LIB_CASES])
def test_library_same_as_redis(snode, sref, name, script):
    expected = _run(sref, script)
    got = _run(snode, script)
    assert got == expected, f"redis {expected!r}, shoal {got!r}"
