#!/usr/bin/env python3
# Writes the seed corpora of the fuzz targets (corpus/<target>/):
# well-formed inputs the fuzzer then mutates, and a few broken ones that
# reach each error path. Input layouts: see fuzz_<target>.c.
# Run: python3 tests/fuzz/make_seeds.py
import os
import struct

OPS = dict(features=0, protocol=1, negotiate=2, queries=3, mem=4,
           vring_setup=5, vring_fds=6, enable_stop=7, config=8,
           inflight=9, device_state=10, misc=11)
REQ = dict(GET_FEATURES=1, GET_VRING_BASE=11, SET_VRING_KICK=12,
           SET_VRING_CALL=13, SET_VRING_ERR=14, GET_PROTOCOL_FEATURES=15,
           GET_QUEUE_NUM=17, SET_VRING_ENABLE=18, SET_BACKEND_REQ_FD=21,
           GET_CONFIG=24, SET_CONFIG=25, GET_INFLIGHT_FD=31,
           GET_MAX_MEM_SLOTS=36, ADD_MEM_REG=37, REM_MEM_REG=38,
           SET_STATUS=39, GET_STATUS=40, SET_DEVICE_STATE_FD=42,
           CHECK_DEVICE_STATE=43, SET_MEM_TABLE=5, SET_LOG_BASE=6)
PROTO = sum(1 << b for b in (0, 1, 3, 5, 9, 12, 13, 15, 16, 19))


def record(payload, nfds=0, kind=0):
    return bytes([nfds | kind << 2]) + struct.pack('<H', len(payload)) + payload


def reply(name, payload, flags=5, nfds=0, kind=0):
    hdr = struct.pack('<III', REQ[name], flags, len(payload))
    return record(hdr + payload, nfds, kind)


def u64(name, v):
    return reply(name, struct.pack('<Q', v))


def ack(name):
    return u64(name, 0)


def seed(flags, ops, replies):
    return bytes([flags, len(ops) - 1] + [OPS[o] for o in ops]) + b''.join(replies)


def config_reply(size=64):
    return reply('GET_CONFIG', struct.pack('<III', 0, size, 0) + bytes(range(size)))


def inflight_reply(kind=0):
    return reply('GET_INFLIGHT_FD', struct.pack('<QQHHI', 4096, 0, 1, 256, 0),
                 nfds=1, kind=kind)


def session():
    return [
        u64('GET_FEATURES', 1 << 30 | 1 << 32 | 1),
        u64('GET_PROTOCOL_FEATURES', PROTO),
        u64('GET_QUEUE_NUM', 2), u64('GET_MAX_MEM_SLOTS', 8),
        u64('GET_FEATURES', 1 << 30 | 1),
        ack('SET_MEM_TABLE'), ack('ADD_MEM_REG'), ack('REM_MEM_REG'),
        ack('SET_VRING_KICK'), ack('SET_VRING_CALL'), ack('SET_VRING_ERR'),
        ack('SET_VRING_ENABLE'), ack('SET_VRING_ENABLE'),
        reply('GET_VRING_BASE', struct.pack('<II', 0, 5)),
        config_reply(), ack('SET_CONFIG'), inflight_reply(),
        u64('SET_DEVICE_STATE_FD', 1 << 8), u64('CHECK_DEVICE_STATE', 0),
        ack('SET_BACKEND_REQ_FD'), u64('SET_LOG_BASE', 0), ack('SET_STATUS'),
    ]


SEEDS = {
    'session': seed(0, ['negotiate', 'features', 'mem', 'vring_setup',
                        'vring_fds', 'enable_stop', 'config', 'inflight',
                        'device_state', 'misc'], session()),
    'preset': seed(1, ['queries', 'config', 'inflight', 'device_state'], [
        u64('GET_QUEUE_NUM', 4), u64('GET_MAX_MEM_SLOTS', 509),
        u64('GET_STATUS', 0xf), config_reply(), ack('SET_CONFIG'),
        inflight_reply(),
        reply('SET_DEVICE_STATE_FD', struct.pack('<Q', 0), nfds=1, kind=3),
        u64('CHECK_DEVICE_STATE', 0)]),
    'no_reply_ack': seed(3, ['enable_stop', 'config'], [
        u64('GET_FEATURES', 1), u64('GET_FEATURES', 1),
        reply('GET_VRING_BASE', struct.pack('<II', 0, 9)), config_reply()]),
    'bad_config': seed(1, ['config'], [reply('GET_CONFIG', bytes(8))]),
    'inflight_eventfd': seed(1, ['inflight'], [inflight_reply(kind=1)]),
    'split_reply': seed(1, ['queries'], [
        record(struct.pack('<III', REQ['GET_QUEUE_NUM'], 5, 8)[:7]),
        record(struct.pack('<III', REQ['GET_QUEUE_NUM'], 5, 8)[7:]),
        record(struct.pack('<Q', 2))]),
}


# --- fuzz_mmio: {u8 op, u16 offset, u32 value} records after a 12-byte
# header (queues-1, log2 QueueNumMax, config size, flags, features).
MMIO = dict(MAGIC=0x000, VERSION=0x004, DEVICE_ID=0x008, DEV_FEAT=0x010,
            DEV_FEAT_SEL=0x014, DRV_FEAT=0x020, DRV_FEAT_SEL=0x024,
            QUEUE_SEL=0x030, QUEUE_NUM_MAX=0x034, QUEUE_NUM=0x038,
            QUEUE_READY=0x044, QUEUE_NOTIFY=0x050, INT_STATUS=0x060,
            INT_ACK=0x064, STATUS=0x070, DESC=0x080, DRIVER=0x090,
            DEVICE=0x0a0, SHM_SEL=0x0ac, GENERATION=0x0fc, CONFIG=0x100)
LEN_CODE = {4: 0, 1: 2, 2: 3, 8: 4, 0: 5, 3: 6}
FEATURES = 1 << 32 | 1 << 29 | 1 << 28 | 1 << 5  # VERSION_1, EVENT_IDX, INDIRECT


def mmio_header(queues=2, log2_max=8, config=16, flags=0, features=FEATURES):
    return bytes([queues - 1, log2_max, config, flags]) + struct.pack('<Q', features)


def rd(off, length=4):
    return struct.pack('<BHI', LEN_CODE[length] << 2, off, 0)


def wr(off, val, length=4):
    return struct.pack('<BHI', 1 | LEN_CODE[length] << 2, off, val & 0xffffffff)


def host_event(fail):
    return struct.pack('<BHI', 3 | (4 if fail else 0), 0, 7)


def wr64(low, val):
    return wr(low, val) + wr(low + 4, val >> 32)


def bring_up(queues=2, num=128, desc=0x10000, step=0x1000, features=FEATURES):
    r = [wr(MMIO['STATUS'], 0), wr(MMIO['STATUS'], 1), wr(MMIO['STATUS'], 3)]
    for sel in (0, 1):
        r += [wr(MMIO['DEV_FEAT_SEL'], sel), rd(MMIO['DEV_FEAT']),
              wr(MMIO['DRV_FEAT_SEL'], sel),
              wr(MMIO['DRV_FEAT'], features >> (32 * sel))]
    r += [wr(MMIO['STATUS'], 0xb), rd(MMIO['STATUS'])]
    for q in range(queues):
        base = desc + q * 4 * step
        r += [wr(MMIO['QUEUE_SEL'], q), rd(MMIO['QUEUE_NUM_MAX']),
              rd(MMIO['QUEUE_READY']), wr(MMIO['QUEUE_NUM'], num),
              wr64(MMIO['DESC'], base), wr64(MMIO['DRIVER'], base + step),
              wr64(MMIO['DEVICE'], base + 2 * step),
              wr(MMIO['QUEUE_READY'], 1)]
    return r + [wr(MMIO['STATUS'], 0xf), rd(MMIO['STATUS'])]


def xorshift(seed, n):
    out = []
    for _ in range(n):
        seed ^= (seed << 13) & 0xffffffff
        seed ^= seed >> 17
        seed ^= (seed << 5) & 0xffffffff
        out.append(seed)
    return out


def mmio_seeds():
    r = xorshift(1, 96)
    hostile = [wr(off, r[off // 4]) for off in range(0, 0x100, 4)]
    hostile += [wr(0x100 + (v % 64), v, 1) for v in r[64:80]]
    hostile += [rd(off) for off in range(0, 0x100, 4)]
    return {
        'driver': mmio_header() + b''.join(bring_up() + [
            wr(MMIO['QUEUE_NOTIFY'], 0), wr(MMIO['QUEUE_NOTIFY'], 1),
            rd(MMIO['CONFIG'], 1), rd(MMIO['CONFIG'] + 2, 2),
            rd(MMIO['CONFIG'] + 4, 4), rd(MMIO['CONFIG'] + 8, 8),
            wr(MMIO['CONFIG'] + 8, 0x12345678, 8), host_event(False),
            rd(MMIO['INT_STATUS']), wr(MMIO['INT_ACK'], 2),
            rd(MMIO['GENERATION']), wr(MMIO['STATUS'], 0)] + bring_up(1)),
        'hostile': mmio_header(queues=4, log2_max=15, config=255) +
        b''.join(hostile),
        'bad_rings': mmio_header() + b''.join(
            bring_up(desc=0x10008) + [wr(MMIO['STATUS'], 0)] +
            bring_up(num=3) + [wr(MMIO['STATUS'], 0)] +
            bring_up(num=512) + [wr(MMIO['QUEUE_NOTIFY'], 9)]),
        'bad_accesses': mmio_header(queues=1, config=8) + b''.join(
            bring_up(queues=1) + [rd(MMIO['STATUS'], 2), wr(MMIO['CONFIG'] + 6, 1, 4),
                                  rd(MMIO['CONFIG'] + 4, 3), rd(0x3fc), wr(MMIO['QUEUE_READY'], 0),
                                  wr(MMIO['STATUS'], 0x7), wr(MMIO['STATUS'], 0)]),
        'activate_fails': mmio_header(flags=1) + b''.join(
            bring_up() + [rd(MMIO['STATUS']), wr(MMIO['STATUS'], 0)]),
        'host_fails': mmio_header(flags=32) + b''.join(
            bring_up() + [host_event(True), rd(MMIO['CONFIG']),
                          wr(MMIO['STATUS'], 0xf), wr(MMIO['STATUS'], 0)]),
        'init_fails': mmio_header(queues=3, flags=5 << 1),
        'no_version_1': mmio_header(features=1 << 5) + b''.join(
            bring_up(features=1 << 5)),
    }


# --- fuzz_vring: a 13-byte header, script steps {op, arg, u16 val}, then
# guest memory from 0: desc table, avail ring, used ring (4-aligned).
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def desc(addr, length, flags=0, nxt=0):
    return struct.pack('<QIHH', addr, length, flags, nxt)


def ring_image(num, descs, heads, extra=()):
    """Memory: descs in the table, heads in the avail ring, then extra
    (address, bytes) pieces such as indirect tables."""
    table = b''.join(descs).ljust(16 * num, b'\0')
    avail = struct.pack('<HH', 0, len(heads)) + b''.join(
        struct.pack('<H', h) for h in heads)
    mem = bytearray(table + avail.ljust(6 + 2 * num, b'\0'))
    for addr, data in extra:
        mem += bytes(max(0, addr + len(data) - len(mem)))
        mem[addr:addr + len(data)] = data
    return bytes(mem)


def vring_input(log2_num, flags, iov_max, avail_idx, image, steps=(),
                base=0, used_idx=0, used_event=0, avail_flags=0, region=None):
    hdr = bytes([log2_num | flags, iov_max | (128 if region is not None else 0)])
    hdr += struct.pack('<HHHHH', base, avail_idx, avail_flags, used_idx,
                       used_event)
    return hdr + bytes([len(steps)]) + b''.join(
        struct.pack('<BBH', *s) for s in steps) + (region or b'') + image


def inflight_region(num, entries=(), version=1, desc_num=None, batch_head=0,
                    used_idx=0):
    """The split in-flight region: header, then num entries; entries are
    (head, inflight byte, counter)."""
    hdr = struct.pack('<QHHHH', 0, version, num if desc_num is None else desc_num,
                      batch_head, used_idx)
    table = bytearray(16 * num)
    for head, flag, counter in entries:
        table[16 * head:16 * head + 16] = struct.pack('<B5xHQ', flag, 0, counter)
    return hdr + bytes(table)


POP, PUSH, FILL, AVAIL, POKE, NOTIFY, USED_EVENT, PENDING = range(8)
EVENT_IDX, INDIRECT, HOLE = 16, 32, 64


def vring_seeds():
    two = ring_image(8, [desc(0x1000, 64, F_NEXT, 1), desc(0x2000, 512, F_WRITE),
                         desc(0x3000, 16, F_WRITE)], [0, 2])
    ind_table = (desc(0x4000, 16, F_NEXT, 1) + desc(0x5000, 512, F_WRITE | F_NEXT, 2) +
                 desc(0x6000, 1, F_WRITE))
    ind = ring_image(16, [desc(0x200, 48, F_INDIRECT), desc(0x3000, 8)], [0, 1],
                     [(0x200, ind_table)])
    return {
        'two_chains': vring_input(3, 0, 16, 2, two),
        'event_idx_indirect': vring_input(4, EVENT_IDX | INDIRECT, 8, 2, ind, [
            (POP, 0, 0), (USED_EVENT, 0, 0), (PUSH, 0, 17), (PENDING, 0, 0),
            (NOTIFY, 1, 0), (POP, 0, 0), (PUSH, 1, 8), (NOTIFY, 0, 0),
            (AVAIL, 0, 3), (POP, 0, 0)]),
        'no_interrupt': vring_input(3, 0, 16, 2, two, [
            (POP, 0, 0), (PUSH, 0, 1), (NOTIFY, 1, 0), (POP, 0, 0),
            (FILL, 7, 0), (POP, 0, 0)], avail_flags=1),
        'loop': vring_input(2, 0, 16, 1, ring_image(
            4, [desc(0x1000, 8, F_NEXT, 1), desc(0x2000, 8, F_NEXT, 0)], [0])),
        'indirect_loop': vring_input(2, INDIRECT, 16, 1, ring_image(
            4, [desc(0x100, 32, F_INDIRECT)], [0],
            [(0x100, desc(0x1000, 8, F_NEXT, 1) + desc(0x2000, 8, F_NEXT, 0))])),
        'jump': vring_input(3, EVENT_IDX, 16, 40, two, [
            (PENDING, 0, 0), (POP, 0, 0), (AVAIL, 0, 2), (POP, 0, 0)]),
        'huge_and_empty': vring_input(3, 0, 16, 3, ring_image(
            8, [desc(0x1000, 0, F_NEXT, 1), desc(0x2000, 0, F_WRITE),
                desc(0x1000, 0xffffffff, F_NEXT, 3), desc(0x0, 0xffffffff)],
            [0, 2, 0])),
        # a buffer beyond memory, one wrapping 2^64, one across the hole
        'outside': vring_input(3, 0, HOLE | 16, 3, ring_image(
            8, [desc(0xfffff000, 16), desc(0xfffffffffffff000, 0x2000),
                desc(0x7ff00, 0x200, F_WRITE)], [2, 1, 0])),
        'few_iovs': vring_input(3, 0, 1, 1, ring_image(
            8, [desc(0x1000, 8, F_NEXT, 1), desc(0x2000, 8, F_WRITE)], [0])),
        'misaligned': vring_input(3, 128, 16, 2, two),
        # a first start on a fresh region, pops, a restart (op 7 with
        # arg bit 7) that must hand back the one not pushed
        'inflight_restart': vring_input(3, EVENT_IDX, 16, 2, two, [
            (POP, 0, 0), (POP, 0, 0), (PUSH, 0, 64), (PENDING, 0x80, 0),
            (POP, 0, 0), (PUSH, 0, 16), (PENDING, 0, 0)],
            region=inflight_region(8, version=0)),
        # a region a previous process left: heads 2 and 0 in flight
        'inflight_recover': vring_input(3, 0, 16, 2, two, [
            (POP, 0, 0), (POP, 0, 0), (PUSH, 0, 1), (PUSH, 0, 2),
            (PENDING, 0, 0)], used_idx=0,
            region=inflight_region(8, [(0, 1, 5), (2, 1, 3)])),
        # the push of head 0 was published but not cleared
        'inflight_batch': vring_input(3, 0, 16, 2, two, [
            (POP, 0, 0), (PUSH, 0, 1)], used_idx=1,
            region=inflight_region(8, [(0, 1, 1), (2, 1, 2)], used_idx=0)),
        'inflight_bad': vring_input(3, 0, 16, 2, two, region=inflight_region(
            8, [(1, 7, 1)], desc_num=8)),
        'inflight_small': vring_input(3, 0, 16, 2, two, region=inflight_region(
            8, desc_num=4)),
        'big_ring': vring_input(8, EVENT_IDX | INDIRECT, 63, 3, ring_image(
            256, [desc(0x10000 + 0x100 * i, 0x100, F_NEXT, i + 1) for i in range(62)]
            + [desc(0x20000, 16, F_WRITE)], [0, 62, 5])),
    }


# --- fuzz_vring_packed: an 11-byte header, steps, [region], then guest
# memory from 0: the packed descriptor ring (16 bytes each: addr, len, id,
# flags); the driver area is written from the header.
P_AVAIL, P_USED = 1 << 7, 1 << 15
PK_EVENT_IDX, PK_INDIRECT, PK_IN_ORDER = 32, 64, 128
P_POP, P_PUSH, P_PUSH_ANY, P_DRIVER, P_POKE, P_NOTIFY, P_RESTART, P_PENDING = range(8)


def pdesc(addr, length, buf_id, flags, wrap=True):
    flags |= P_AVAIL if wrap else P_USED
    return struct.pack('<QIHH', addr, length, buf_id, flags)


def packed_input(num, flags, iov_max, descs, steps=(), base=0x80008000,
                 off_wrap=0, ev_flags=0, region=None, extra=()):
    hdr = bytes([(num - 1) | flags, iov_max | (128 if region is not None else 0)])
    hdr += struct.pack('<IHH', base, off_wrap, ev_flags)
    mem = bytearray(b''.join(descs).ljust(16 * num, b'\0'))
    for addr, data in extra:
        mem += bytes(max(0, addr + len(data) - len(mem)))
        mem[addr:addr + len(data)] = data
    return hdr + bytes([len(steps)]) + b''.join(
        struct.pack('<BBH', *s) for s in steps) + (region or b'') + bytes(mem)


def packed_region(num, used_idx=0, used_wrap=1, entries=(), version=1):
    """Header, then num 32-byte entries: (index, inflight, counter, num,
    next, id, flags, len, addr)."""
    hdr = struct.pack('<QHHHHHHBB10x', 0, version, num, 0, 0, used_idx,
                      used_idx, used_wrap, used_wrap)
    table = bytearray(32 * num)
    for i, flag, counter, n, nxt, buf_id, fl, ln, addr in entries:
        table[32 * i:32 * i + 32] = struct.pack('<BxHHHQHHIQ', flag, nxt, 0, n,
                                                counter, buf_id, fl, ln, addr)
    return hdr + bytes(table)


def vring_packed_seeds():
    chain = [pdesc(0x2000, 64, 3, F_NEXT), pdesc(0x3000, 512, 3, F_WRITE),
             pdesc(0x4000, 16, 1, F_WRITE)]
    ind_table = (struct.pack('<QIHH', 0x5000, 16, 0, 0) +
                 struct.pack('<QIHH', 0x6000, 512, 0, F_WRITE))
    return {
        'chain': packed_input(8, 0, 16, chain),
        'steps': packed_input(8, PK_EVENT_IDX, 16, chain, [
            (P_POP, 0, 0), (P_POP, 0, 0), (P_PUSH, 1, 16), (P_DRIVER, 2, 0x8002),
            (P_PUSH, 0, 8), (P_NOTIFY, 1, 0), (P_NOTIFY, 0, 0), (P_PENDING, 0, 0)]),
        'in_order': packed_input(8, PK_IN_ORDER, 16, chain, [
            (P_POP, 0, 0), (P_POP, 0, 0), (P_PUSH, 1, 1)]),
        'indirect': packed_input(4, PK_INDIRECT, 8,
                                 [pdesc(0x800, 32, 2, F_INDIRECT)],
                                 extra=[(0x800, ind_table)]),
        'indirect_in_chain': packed_input(4, PK_INDIRECT, 8,
                                          [pdesc(0x2000, 8, 0, F_NEXT),
                                           pdesc(0x800, 32, 0, F_INDIRECT)],
                                          extra=[(0x800, ind_table)]),
        'bad_id': packed_input(4, 0, 8, [pdesc(0x2000, 8, 9, 0)]),
        'same_id': packed_input(4, 0, 8, [pdesc(0x2000, 8, 1, 0),
                                          pdesc(0x2000, 8, 1, 0)]),
        'whole_ring': packed_input(3, 0, 8, [pdesc(0x2000, 8, 0, F_NEXT)] * 3),
        'second_lap': packed_input(3, 0, 8, [pdesc(0x2000, 8, 0, 0, False),
                                             pdesc(0x2000, 8, 1, 0),
                                             pdesc(0x2000, 8, 2, 0)],
                                   base=0x00010001),
        'inflight_restart': packed_input(8, 0, 16, chain, [
            (P_POP, 0, 0), (P_POP, 0, 0), (P_PUSH, 1, 16), (P_RESTART, 0, 0),
            (P_POP, 0, 0), (P_PUSH, 0, 4)], region=packed_region(8, version=0)),
        'inflight_recover': packed_input(8, 0, 16, chain, [
            (P_POP, 0, 0), (P_PUSH, 0, 4)], region=packed_region(
                8, entries=[(5, 1, 1, 2, 6, 3, F_NEXT, 64, 0x2000),
                            (6, 0, 0, 0, 0, 3, F_WRITE, 512, 0x3000)])),
        'inflight_bad': packed_input(8, 0, 16, chain, region=packed_region(
            8, entries=[(5, 1, 1, 9, 6, 3, 0, 64, 0x2000)])),
    }


def write_corpus(name, seeds):
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus',
                       name)
    os.makedirs(out, exist_ok=True)
    for seed_name, data in seeds.items():
        with open(os.path.join(out, seed_name), 'wb') as f:
            f.write(data)
    print(f'{len(seeds)} seeds in {out}')


write_corpus('frontend', SEEDS)
write_corpus('mmio', mmio_seeds())
write_corpus('vring', vring_seeds())
write_corpus('vring_packed', vring_packed_seeds())
