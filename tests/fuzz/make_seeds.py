#!/usr/bin/env python3
# Writes the seed corpus of fuzz_frontend (corpus/frontend/): well-formed
# sessions the fuzzer then mutates. Input layout: see fuzz_frontend.c.
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

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus',
                   'frontend')
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
print(f'{len(SEEDS)} seeds in {out}')
