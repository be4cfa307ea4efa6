#!/usr/bin/python3
"""Keeps one CURVE connection to a node open across a command, for
integration tests of key revocation.

usage: heldclient.py ENDPOINT CLIENT_CERT SERVER_CERT COMMAND...

It connects a DEALER with CLIENT_CERT (NAME.cert, with NAME.cert_secret
beside it), sends a request with an invalid MPAN, which a node answers
with "invalid" while the key is admitted and drops once it is not, and
then runs COMMAND. After COMMAND returns it sends the same probe every
100 ms on the same socket until one gets no reply within 300 ms, for at
most 5 s, and prints one line:

    before=STATUS after=STATUS elapsed_ms=N handshakes=N

before and after are the first and last probe's status or "no-reply";
elapsed_ms is the time from COMMAND's return to the sending of the first
unanswered probe; handshakes counts the CURVE handshakes of the socket, so 1 means
the connection was never made again. Exits 2 when COMMAND fails.
"""
import os
import re
import subprocess
import sys
import time

import msgpack
import zmq
import zmq.utils.monitor


def read_key(path, name):
    with open(path) as f:
        match = re.search(name + r'\s*=\s*"(.{40})"', f.read())
    if not match:
        sys.exit("heldclient: no %s in %s" % (name, path))
    return match.group(1).encode()


def probe(socket, timeout_ms):
    socket.send(msgpack.packb({"v": 1, "type": "read.registers",
                               "id": os.urandom(16),
                               "ts": int(time.time() * 1000),
                               "mpxn": "2499999999990"}, use_bin_type=True))
    if not socket.poll(timeout_ms):
        return "no-reply"
    return msgpack.unpackb(socket.recv(), raw=False).get("status", "?")


def count_handshakes(monitor):
    count = 0
    while monitor.poll(0):
        event = zmq.utils.monitor.recv_monitor_message(monitor)
        if event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            count += 1
    return count


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    endpoint, client_cert, server_cert = sys.argv[1:4]
    command = sys.argv[4:]
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.linger = 0
    socket.curve_publickey = read_key(client_cert, "public-key")
    socket.curve_secretkey = read_key(client_cert + "_secret", "secret-key")
    socket.curve_serverkey = read_key(server_cert, "public-key")
    monitor = socket.get_monitor_socket()
    socket.connect(endpoint)
    before = probe(socket, 3000)
    handshakes = count_handshakes(monitor)
    if subprocess.call(command, stdout=subprocess.DEVNULL) != 0:
        print("heldclient: the command failed: %s" % " ".join(command),
              file=sys.stderr)
        return 2
    done = time.monotonic()
    after = before
    elapsed_ms = -1
    while time.monotonic() - done < 5:
        sent = time.monotonic()
        after = probe(socket, 300)
        if after == "no-reply":
            elapsed_ms = int((sent - done) * 1000)
            break
        time.sleep(0.1)
    handshakes += count_handshakes(monitor)
    print("before=%s after=%s elapsed_ms=%d handshakes=%d" % (
        before, after, elapsed_ms, handshakes))
    socket.disable_monitor()
    monitor.close()
    socket.close()
    context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
