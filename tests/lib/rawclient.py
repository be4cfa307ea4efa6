#!/usr/bin/python3
"""Sends hand-made frames to a node over CURVE, for integration tests.

usage: rawclient.py ENDPOINT CLIENT_CERT SERVER_CERT MODE [MPXN]

CLIENT_CERT is a czmq certificate (NAME.cert, with NAME.cert_secret beside
it); SERVER_CERT the server's NAME.cert. Each mode sends one or more frames
and prints one line per reply: the reply's status, or "no-reply".
Modes: garbage, hostile, missing-mpxn, bad-mpan, stale, registers,
pending. "pending" sends receipt.pending with after 0, which lists every
receipt of the chain, and prints "status|head|count|seq,seq,...|more".
"""
import os
import re
import sys
import time

import msgpack
import zmq


def read_key(path, name):
    with open(path) as f:
        match = re.search(name + r'\s*=\s*"(.{40})"', f.read())
    if not match:
        sys.exit("rawclient: no %s in %s" % (name, path))
    return match.group(1).encode()


def request(kind, mpxn, ts_ms=None, **extra):
    body = {"v": 1, "type": kind, "id": os.urandom(16),
            "ts": int(time.time() * 1000) if ts_ms is None else ts_ms,
            "mpxn": mpxn}
    body.update(extra)
    return msgpack.packb(body, use_bin_type=True)


def frames_for(mode, mpxn):
    if mode == "garbage":
        return [b"\xc1\x00garbage", b"", b"\xdf\xff\xff\xff\xff",
                b"\x81\xa1a" + b"\x91" * 40 + b"\x01"]
    if mode == "hostile":
        return [msgpack.packb({"v": 1, "type": "read.registers",
                               "id": b"short", "ts": 1}),
                msgpack.packb({"v": 2, "type": "read.registers",
                               "id": os.urandom(16), "ts": 1}),
                msgpack.packb([1, 2, 3]),
                request("meter.explode", mpxn)]
    if mode == "missing-mpxn":
        body = msgpack.unpackb(request("read.registers", mpxn))
        del body["mpxn"]
        return [msgpack.packb(body, use_bin_type=True)]
    if mode == "bad-mpan":
        return [request("read.registers", "2499999999990")]
    if mode == "stale":
        return [request("read.registers", mpxn,
                        ts_ms=int(time.time() * 1000) - 600000)]
    if mode == "registers":
        return [request("read.registers", mpxn)]
    if mode == "pending":
        return [msgpack.packb({"v": 1, "type": "receipt.pending",
                               "id": os.urandom(16),
                               "ts": int(time.time() * 1000), "after": 0},
                              use_bin_type=True)]
    sys.exit("rawclient: unknown mode " + mode)


def main():
    endpoint, client_cert, server_cert, mode = sys.argv[1:5]
    mpxn = sys.argv[5] if len(sys.argv) > 5 else "1312345678907"
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.curve_publickey = read_key(client_cert, "public-key")
    socket.curve_secretkey = read_key(client_cert + "_secret", "secret-key")
    socket.curve_serverkey = read_key(server_cert, "public-key")
    socket.linger = 0
    socket.connect(endpoint)
    for frame in frames_for(mode, mpxn):
        socket.send(frame)
        if socket.poll(3000):
            reply = msgpack.unpackb(socket.recv(), raw=False)
            if mode == "pending" and reply.get("status") == "ok":
                # seq is item 12 of the receipt body array.
                seqs = [msgpack.unpackb(r["body"])[12]
                        for r in reply["receipts"]]
                print("ok", reply["head"], len(seqs),
                      ",".join(str(seq) for seq in seqs), reply["more"],
                      sep="|")
                continue
            print(reply.get("status"), reply.get("reason", ""),
                  reply.get("error", ""), sep="|")
        else:
            print("no-reply")
    socket.close()
    context.term()


if __name__ == "__main__":
    main()
