#!/usr/bin/python3
"""The directory's change feed and dir.changes, checked from Python with
Debian's python3-zmq, python3-msgpack and python3-nacl against the real
sdx-directory: heartbeats, one message per change and withdrawal, the
signed change list with paging, and a subscriber whose key is not listed."""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import msgpack
import nacl.exceptions
import nacl.signing
import zmq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECTORY = os.path.join(ROOT, "build", "bin", "sdx-directory")
SDX = os.path.join(ROOT, "build", "bin", "sdx")
DOMAIN = b"sdx/v1/directory-answer\x00"

count = 0
failed = 0


def check(condition, name):
    global count, failed
    count += 1
    print(("ok" if condition else "not ok") + " %d - %s" % (count, name))
    if not condition:
        failed += 1
    sys.stdout.flush()


def mpan(digits12):
    weights = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43]
    total = sum(int(c) * w for c, w in zip(digits12, weights))
    return digits12 + str(total % 11 % 10)


def public_key(path):
    with open(path) as f:
        match = re.search(r'public-key = "([^"]+)"', f.read())
    return match.group(1)


def supplier_row(mpid, curve_public, signing):
    return "%s,Supplier %s,tcp://127.0.0.1:9,\"%s\",%s\n" % (
        mpid, mpid, curve_public.decode().replace('"', '""'),
        signing.verify_key.encode().hex())


def make_directory(work, client_public):
    if subprocess.call([SDX, "keygen", "--dir", work, "--name", "directory"],
                       stdout=subprocess.DEVNULL) != 0:
        print("Bail out! sdx keygen failed")
        sys.exit(1)
    other_public, _ = zmq.curve_keypair()
    db = os.path.join(work, "directory.db")
    point = mpan("120002330596")
    with open(os.path.join(work, "suppliers.csv"), "w") as f:
        f.write("mpid,name,endpoint,curve_key,sign_key\n")
        f.write(supplier_row("PYTH", client_public,
                             nacl.signing.SigningKey.generate()))
        f.write(supplier_row("OTHR", other_public,
                             nacl.signing.SigningKey.generate()))
    with open(os.path.join(work, "points.csv"), "w") as f:
        f.write("mpxn,fuel,meter_id,smart,installing,head_end\n")
        f.write("%s,electricity,MTR-PY,true,PYTH,sim\n" % point)
    with open(os.path.join(work, "registrations.csv"), "w") as f:
        f.write("mpxn,supplier,from,to\n%s,PYTH,2013-01-01,\n" % point)
    subprocess.check_call([DIRECTORY, "init", "--db", db],
                          stdout=subprocess.DEVNULL)
    subprocess.check_call([
        DIRECTORY, "load", "--db", db,
        "--suppliers", os.path.join(work, "suppliers.csv"),
        "--supply-points", os.path.join(work, "points.csv"),
        "--registrations", os.path.join(work, "registrations.csv")],
        stdout=subprocess.DEVNULL)
    return db, point


def start_server(work, db):
    log = open(os.path.join(work, "directory.log"), "w")
    process = subprocess.Popen([
        DIRECTORY, "serve", "--db", db,
        "--cert", os.path.join(work, "directory.cert"),
        "--signing-key", os.path.join(work, "directory.sign_secret"),
        "--bind", "tcp://127.0.0.1:*", "--feed", "tcp://127.0.0.1:*",
        "--ttl", "30"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    line = process.stdout.readline().strip()
    match = re.fullmatch(r"sdx-directory ready endpoint=(\S+) feed=(\S+)",
                         line)
    if not match:
        process.kill()
        print("Bail out! no readiness line with feed=, got %r" % line)
        sys.exit(1)
    return process, match.group(1), match.group(2)


def curve_socket(context, kind, public, secret, server):
    socket = context.socket(kind)
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.curve_serverkey = server
    socket.linger = 0
    return socket


def next_message(socket, want_type, timeout_s):
    """Returns the first feed message of want_type within timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not socket.poll(int(remaining * 1000)):
            return None
        message = msgpack.unpackb(socket.recv(), raw=False)
        if message.get("type") == want_type:
            return message


def changes(socket, since, sign_key):
    """Sends dir.changes; returns the verified answer map or None."""
    socket.send(msgpack.packb({"v": 1, "type": "dir.changes",
                               "id": os.urandom(16),
                               "ts": int(time.time() * 1000),
                               "since": since}, use_bin_type=True))
    if not socket.poll(3000):
        return None
    reply = msgpack.unpackb(socket.recv(), raw=False)
    if reply.get("status") != "ok":
        return None
    try:
        nacl.signing.VerifyKey(sign_key).verify(DOMAIN + reply["answer"],
                                                reply["sig"])
    except nacl.exceptions.BadSignatureError:
        return None
    return msgpack.unpackb(reply["answer"], raw=False)


def run(command):
    return subprocess.run(command, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def test_feed(work, db, point, context, feed, router, keys):
    subscriber = curve_socket(context, zmq.SUB, keys["public"],
                              keys["secret"], keys["server"])
    subscriber.setsockopt(zmq.SUBSCRIBE, b"")
    subscriber.connect(feed)
    head = next_message(subscriber, "dir.head", 3)
    check(head is not None, "a listed subscriber gets dir.head")
    check(head is not None and head.get("change") == 3,
          "the head is the latest change, the third load")

    started = time.monotonic()
    result = run([DIRECTORY, "change-supplier", "--db", db, "--mpxn", point,
                  "--to", "OTHR", "--at", "2014-01-01"])
    check(result.returncode == 0, "change-supplier succeeds")
    change = next_message(subscriber, "dir.change", 2)
    elapsed = time.monotonic() - started
    check(change is not None, "the change is published")
    check(elapsed < 1.0, "within a second (%.2f s)" % elapsed)
    change = change or {}
    check(change.get("v") == 1, "dir.change has v 1")
    check(change.get("change") == 4, "it is change 4")
    check(change.get("kind") == "change_of_supplier", "of kind "
          "change_of_supplier")
    check(change.get("mpxn") == point, "naming the supply point")
    check("mpid" not in change, "and no supplier")
    check(isinstance(change.get("at"), int) and
          abs(change["at"] - time.time() * 1000) < 10000,
          "at is when it was recorded")

    result = run([DIRECTORY, "withdraw-change", "--db", db, "--change", "4",
                  "--reason", "keyed in error"])
    check(result.returncode == 0, "withdraw-change succeeds")
    withdrawal = next_message(subscriber, "dir.change", 2) or {}
    check(withdrawal.get("change") == 5, "the withdrawal is change 5")
    check(withdrawal.get("kind") == "withdrawal", "of kind withdrawal")
    check(withdrawal.get("mpxn") == point, "naming the supply point")
    subscriber.close()

    dealer = curve_socket(context, zmq.DEALER, keys["public"],
                          keys["secret"], keys["server"])
    dealer.connect(router)
    answer = changes(dealer, 0, keys["sign"])
    check(answer is not None, "dir.changes answers with a valid signature")
    answer = answer or {}
    check(answer.get("kind") == "changes", "answer kind is changes")
    check(answer.get("since") == 0 and answer.get("head") == 5,
          "since 0, head 5")
    check([c.get("change") for c in answer.get("changes", [])] ==
          [1, 2, 3, 4, 5], "it lists changes 1 to 5")
    check([c.get("kind") for c in answer.get("changes", [])] ==
          ["load", "load", "load", "change_of_supplier", "withdrawal"],
          "with their kinds")
    check(answer.get("more") is False, "and no more")
    check(answer.get("expires", 0) > answer.get("issued", 0),
          "it has issued and expires")
    later = changes(dealer, 5, keys["sign"]) or {}
    check(later.get("changes") == [] and later.get("more") is False,
          "nothing after the head")
    dealer.close()


def test_paging(db, context, feed, router, keys):
    subscriber = curve_socket(context, zmq.SUB, keys["public"],
                              keys["secret"], keys["server"])
    # No limit on this side's queue, so that a slow test reader cannot lose
    # any of the 1001 messages below.
    subscriber.rcvhwm = 0
    subscriber.setsockopt(zmq.SUBSCRIBE, b"")
    subscriber.connect(feed)
    next_message(subscriber, "dir.head", 3)
    # 1001 load entries written straight to the change log, as an import
    # of many batches would.
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO changes (at_ms, kind, mpxn, description) "
            "VALUES (?, 'load', NULL, 'test batch')",
            [(i,) for i in range(1001)])
    numbers = []
    deadline = time.monotonic() + 5
    while len(numbers) < 1001 and time.monotonic() < deadline:
        message = next_message(subscriber, "dir.change", 1)
        if message:
            numbers.append(message["change"])
    check(numbers == list(range(6, 1007)),
          "the feed publishes all 1001 entries in order (%d)" % len(numbers))
    subscriber.close()

    dealer = curve_socket(context, zmq.DEALER, keys["public"],
                          keys["secret"], keys["server"])
    dealer.connect(router)
    first = changes(dealer, 5, keys["sign"]) or {}
    listed = first.get("changes", [])
    check(len(listed) == 1000, "dir.changes lists at most 1000")
    check(first.get("more") is True, "and says there are more")
    check(first.get("head") == 1006, "head is 1006")
    rest = changes(dealer, listed[-1]["change"] if listed else 0,
                   keys["sign"]) or {}
    check([c.get("change") for c in rest.get("changes", [])] == [1006],
          "the next page has the last one")
    check(rest.get("more") is False, "and no more")
    dealer.close()


def test_stranger(context, feed, keys):
    public, secret = zmq.curve_keypair()
    stranger = curve_socket(context, zmq.SUB, public, secret, keys["server"])
    stranger.setsockopt(zmq.SUBSCRIBE, b"")
    stranger.connect(feed)
    check(next_message(stranger, "dir.head", 2.5) is None,
          "a subscriber whose key is not listed gets nothing")
    stranger.close()


def main():
    work = tempfile.mkdtemp(prefix="sdx-t0233-")
    context = zmq.Context()
    process = None
    try:
        public, secret = zmq.curve_keypair()
        db, point = make_directory(work, public)
        process, router, feed = start_server(work, db)
        check(feed.startswith("tcp://127.0.0.1:") and not feed.endswith("*"),
              "the readiness line gives the feed's port")
        keys = {
            "public": public, "secret": secret,
            "server": public_key(os.path.join(work,
                                              "directory.cert")).encode(),
            "sign": bytes.fromhex(public_key(os.path.join(work,
                                                          "directory.sign"))),
        }
        test_feed(work, db, point, context, feed, router, keys)
        test_paging(db, context, feed, router, keys)
        test_stranger(context, feed, keys)
    finally:
        if process:
            process.terminate()
            process.wait(10)
        context.destroy(linger=0)
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
