#!/usr/bin/python3
"""Rebuilds the golden receipt and acknowledgement with Python's msgpack,
nacl and hashlib, and compares them with tests/golden/ byte for byte.

This checks that the canonical encoding described in docs/protocol.md is
what a client in another language produces from the field list alone.
"""
import hashlib
import os
import sys

import msgpack
import nacl.exceptions
import nacl.signing

GOLDEN = os.environ.get("SDX_GOLDEN_DIR", "tests/golden")
count = 0
failed = 0


def check(condition, name):
    global count, failed
    count += 1
    print(("ok" if condition else "not ok") + " %d - %s" % (count, name))
    if not condition:
        failed += 1


def golden(name):
    with open(os.path.join(GOLDEN, name)) as f:
        return bytes.fromhex(f.read().strip())


def seq_bytes(first, size):
    return bytes((first + i) & 0xFF for i in range(size))


receipt = [
    1,
    seq_bytes(0x00, 16),
    "ALFA",
    "BRVO",
    "2000012345672",
    "read.profile",
    [[1370044800000, 1370131200000], [1370217600000, 1370649600000]],
    336,
    "ALFA-BRVO-2013",
    seq_bytes(0xA0, 32),
    52400,
    1370700000000,
    300,
    seq_bytes(0x40, 32),
]
body = msgpack.packb(receipt, use_bin_type=True)
check(body == golden("receipt-body.hex"), "receipt body matches golden")

alfa = nacl.signing.SigningKey(seq_bytes(0x01, 32))
signature = alfa.sign(b"sdx/v1/receipt\0" + body).signature
check(signature == golden("receipt-sig.hex"), "receipt signature matches")
try:
    alfa.verify_key.verify(b"sdx/v1/receipt\0" + golden("receipt-body.hex"),
                           golden("receipt-sig.hex"))
    verified = True
except nacl.exceptions.BadSignatureError:
    verified = False
check(verified, "golden receipt signature verifies with nacl")

receipt_hash = hashlib.blake2b(body, digest_size=32).digest()
check(receipt_hash == golden("receipt-hash.hex"), "receipt hash matches")

ack = [1, receipt_hash, "ALFA", "BRVO", 300, 1370700000123]
ack_body = msgpack.packb(ack, use_bin_type=True)
check(ack_body == golden("ack-body.hex"), "ack body matches golden")
brvo = nacl.signing.SigningKey(seq_bytes(0x21, 32))
ack_signature = brvo.sign(b"sdx/v1/ack\0" + ack_body).signature
check(ack_signature == golden("ack-sig.hex"), "ack signature matches")

decoded = msgpack.unpackb(golden("receipt-body.hex"), raw=False)
check(decoded == receipt, "golden body unpacks to the same fields")

print("1..%d" % count)
sys.exit(1 if failed else 0)
