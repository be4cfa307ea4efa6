#!/usr/bin/python3
"""Access to the real sdx-directory, checked from Python with Debian's
python3-zmq, python3-msgpack and python3-nacl: who sees a supply point's
registrations, the query log, the rate limit and its recovery, key
changes on the feed and in supplier answers, the expiry warning, and a
revoked CURVE key refused on a connection that is already open."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import msgpack
import nacl.signing
import zmq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECTORY = os.path.join(ROOT, "build", "bin", "sdx-directory")
SDX = os.path.join(ROOT, "build", "bin", "sdx")
DOMAIN = b"sdx/v1/directory-answer\x00"
SUPPLIERS = ["ALFA", "BRVO", "CHRL", "DLTA"]
RATE, BURST = 20, 5

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
        return re.search(r'public-key = "([^"]+)"', f.read()).group(1)


def csv_key(text):
    return '"%s"' % text.replace('"', '""')


def directory_cli(*args):
    return subprocess.run([DIRECTORY] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def make_directory(work, keys):
    """Writes and loads the CSV files: ALFA installed the meter, BRVO was
    registered for it, CHRL is now, DLTA never was."""
    db = os.path.join(work, "directory.db")
    point = mpan("120002330596")
    with open(os.path.join(work, "suppliers.csv"), "w") as f:
        f.write("mpid,name,endpoint,curve_key,sign_key\n")
        for mpid in SUPPLIERS:
            public, _, signing = keys[mpid]
            f.write("%s,Supplier %s,tcp://127.0.0.1:9,%s,%s\n" % (
                mpid, mpid, csv_key(public.decode()),
                signing.verify_key.encode().hex()))
    with open(os.path.join(work, "points.csv"), "w") as f:
        f.write("mpxn,fuel,meter_id,smart,installing,head_end\n")
        f.write("%s,electricity,MTR-1,true,ALFA,sim\n" % point)
    with open(os.path.join(work, "registrations.csv"), "w") as f:
        f.write("mpxn,supplier,from,to\n")
        f.write("%s,BRVO,2013-01-01,2014-01-01\n" % point)
        f.write("%s,CHRL,2014-01-01,\n" % point)
    directory_cli("init", "--db", db)
    loaded = directory_cli(
        "load", "--db", db,
        "--suppliers", os.path.join(work, "suppliers.csv"),
        "--supply-points", os.path.join(work, "points.csv"),
        "--registrations", os.path.join(work, "registrations.csv"))
    if loaded.returncode != 0:
        print("Bail out! load failed: " + loaded.stderr)
        sys.exit(1)
    return db, point


def start_server(work, db):
    log_path = os.path.join(work, "directory.log")
    log = open(log_path, "w")
    process = subprocess.Popen([
        DIRECTORY, "serve", "--db", db,
        "--cert", os.path.join(work, "directory.cert"),
        "--signing-key", os.path.join(work, "directory.sign_secret"),
        "--bind", "tcp://127.0.0.1:*", "--feed", "tcp://127.0.0.1:*",
        "--rate", str(RATE), "--burst", str(BURST)],
        stdout=subprocess.PIPE, stderr=log, text=True)
    line = process.stdout.readline().strip()
    match = re.fullmatch(r"sdx-directory ready endpoint=(\S+) feed=(\S+)",
                         line)
    if not match:
        process.kill()
        print("Bail out! no readiness line, got %r" % line)
        sys.exit(1)
    return process, match.group(1), match.group(2), log_path


def connect(context, kind, keys, server, endpoint):
    public, secret, _ = keys
    socket = context.socket(kind)
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.curve_serverkey = server
    socket.linger = 0
    socket.connect(endpoint)
    return socket


def send(socket, kind, **extra):
    body = {"v": 1, "type": kind, "id": os.urandom(16),
            "ts": int(time.time() * 1000)}
    body.update(extra)
    socket.send(msgpack.packb(body, use_bin_type=True))


def receive(socket, timeout_ms=3000):
    if not socket.poll(timeout_ms):
        return None
    return msgpack.unpackb(socket.recv(), raw=False)


def ask(socket, kind, sign_key, **extra):
    """Sends one request; returns (reply, verified answer or None)."""
    send(socket, kind, **extra)
    reply = receive(socket)
    if not reply or reply.get("status") != "ok":
        return reply, None
    nacl.signing.VerifyKey(sign_key).verify(DOMAIN + reply["answer"],
                                            reply["sig"])
    return reply, msgpack.unpackb(reply["answer"], raw=False)


def test_registrations(sockets, point, sign_key):
    for mpid in ["ALFA", "BRVO", "CHRL"]:
        _, answer = ask(sockets[mpid], "dir.lookup", sign_key, mpxn=point)
        check(answer is not None, "%s's lookup is answered" % mpid)
        if answer:
            check(len(answer["registrations"]) == 2,
                  "%s sees both registrations" % mpid)
            check("registrations_withheld" not in answer,
                  "%s's answer is not marked withheld" % mpid)
    _, answer = ask(sockets["DLTA"], "dir.lookup", sign_key, mpxn=point)
    check(answer is not None, "a supplier never registered is answered")
    if answer:
        check(answer["registrations"] == [], "but sees no registrations")
        check(answer.get("registrations_withheld") is True,
              "and the answer says they were withheld")
        check(answer["smart"] is True, "it sees the smart status")
        check(answer["installing"] == "ALFA", "the installing supplier")
        check(answer["head_end"] == "sim", "and the head end")


def query_log_lines(db, *filters):
    result = directory_cli("queries", "--db", db, *filters)
    return result.returncode, result.stdout.splitlines()[1:]


def test_query_log(db, point, started_ms):
    time.sleep(0.4)  # the server writes the log every 100 ms
    code, lines = query_log_lines(db, "--mpxn", point)
    check(code == 0, "queries lists the query log")
    who = sorted(line.split()[1] for line in lines)
    check(who == ["ALFA", "BRVO", "CHRL", "DLTA"],
          "one lookup of the supply point by each supplier: %s" % who)
    check(all(line.split()[2] == "dir.lookup" and line.split()[3] == point
              for line in lines), "each names the request and supply point")
    stamps = [line.split()[0] for line in lines]
    started = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(started_ms / 1000))
    check(all(stamp >= started for stamp in stamps),
          "each says when, at or after the test started: %s" % stamps)
    code, lines = query_log_lines(db, "--mpid", "DLTA")
    check(code == 0 and len(lines) == 1, "filtering by supplier: DLTA's one")


def test_rate_limit(socket, db, sign_key):
    # The earlier lookup took one query from DLTA's bucket; let it refill.
    time.sleep(1.0)
    for _ in range(BURST + 3):
        send(socket, "dir.supplier", mpid="ALFA")
    replies = [receive(socket) for _ in range(BURST + 3)]
    statuses = [reply and reply["status"] for reply in replies]
    check(statuses.count("ok") == BURST,
          "a burst of %d is answered: %s" % (BURST, statuses))
    limited = [reply for reply in replies
               if reply and reply["status"] == "rate_limited"]
    check(len(limited) == 3, "the queries above it get rate_limited")
    if limited:
        check(re.search(r"more than %d queries a second \(burst %d\): "
                        r"retry in \d+ ms" % (RATE, BURST),
                        limited[0]["error"]) is not None,
              "with a sentence saying when to retry: %s" % limited[0]["error"])
    time.sleep(2.0 / RATE)
    reply, answer = ask(socket, "dir.supplier", sign_key, mpid="ALFA")
    check(answer is not None, "after a pause the supplier is answered again")
    time.sleep(0.4)
    _, lines = query_log_lines(db, "--mpid", "DLTA")
    check(sum(1 for line in lines if "rate_limited" in line) == 3,
          "the query log has the rate-limited queries")


def test_supplier_keys(socket, sign_key, added_curve):
    _, answer = ask(socket, "dir.supplier", sign_key, mpid="ALFA")
    check(answer is not None, "ALFA's supplier answer")
    if not answer:
        return
    keys = answer.get("keys", [])
    check(len(keys) == 3, "lists ALFA's three keys: %d" % len(keys))
    types = sorted(key["type"] for key in keys)
    check(types == ["curve", "curve", "sign"], "two CURVE keys and one sign")
    added = [key for key in keys if key["key"] == added_curve]
    check(len(added) == 1 and added[0]["to"] is not None,
          "the added key with its end")
    check(answer["curve_key"] == added_curve,
          "curve_key is the valid key that started last")
    check(all(key["state"] == "active" for key in keys), "all active")


def test_expiry_warning(log_path):
    with open(log_path) as f:
        log = f.read()
    check(re.search(r"supplier key ends in (6[0-9]|7[0-2]) hours .*mpid=ALFA "
                    r"type=curve", log) is not None,
          "serve warned at start of ALFA's key ending in 3 days")
    check("mpid=BRVO" not in log,
          "and not of BRVO's key ending in 20 days")


def test_key_end(db, context, server, endpoint, sign_key):
    """A key added with an end 2 to 3 s ahead is admitted until then and
    refused from then, without another change to the database."""
    public, secret = zmq.curve_keypair()
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    added = directory_cli("add-key", "--db", db, "--mpid", "CHRL",
                          "--curve-key", public.decode(), "--from", "now",
                          "--to", end)
    check(added.returncode == 0, "add-key with an end 2 to 3 s ahead")
    time.sleep(0.5)
    socket = connect(context, zmq.DEALER, (public, secret, None), server,
                     endpoint)
    _, answer = ask(socket, "dir.supplier", sign_key, mpid="CHRL")
    check(answer is not None, "the key is admitted before its end")
    while time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) < end:
        time.sleep(0.1)
    time.sleep(0.3)
    reply, _ = ask(socket, "dir.supplier", sign_key, mpid="CHRL")
    check(reply is not None and reply["status"] == "denied",
          "and denied on the same connection once it has ended")
    socket.close()


def test_feed_and_revocation(work, db, context, feed, sockets, keys, server,
                             endpoint, sign_key):
    sub = connect(context, zmq.SUB, keys["ALFA"], server, feed)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    time.sleep(1.5)
    dlta = keys["DLTA"][0].decode()
    revoked_at = time.monotonic()
    result = directory_cli("revoke-key", "--db", db, "--mpid", "DLTA",
                           "--key", dlta, "--reason", "test compromise")
    check(result.returncode == 0, "revoke-key succeeds: " + result.stderr)
    change = None
    deadline = time.monotonic() + 3
    while change is None and time.monotonic() < deadline:
        message = receive(sub, 500)
        if message and message.get("type") == "dir.change":
            change = message
    check(change is not None and change["kind"] == "key",
          "the feed publishes a change of kind key")
    check(change is not None and change.get("mpid") == "DLTA",
          "naming the supplier")
    status = "ok"
    while status != "denied" and time.monotonic() - revoked_at < 3:
        reply, _ = ask(sockets["DLTA"], "dir.supplier", sign_key, mpid="ALFA")
        status = reply["status"] if reply else "no-reply"
        if status != "denied":
            time.sleep(0.05)
    elapsed = time.monotonic() - revoked_at
    check(status == "denied",
          "the open connection's next query is denied after revocation")
    check(elapsed < 1.5, "within about a second: %.2f s" % elapsed)
    fresh = connect(context, zmq.DEALER, keys["DLTA"], server, endpoint)
    reply, _ = ask(fresh, "dir.supplier", sign_key, mpid="ALFA")
    check(reply is None, "a new connection with the revoked key gets nothing")
    fresh.close()
    sub.close()


def main():
    work = tempfile.mkdtemp(prefix="sdx-t0241.")
    server_process = None
    try:
        subprocess.check_call([SDX, "keygen", "--dir", work, "--name",
                               "directory"], stdout=subprocess.DEVNULL)
        keys = {}
        for mpid in SUPPLIERS:
            public, secret = zmq.curve_keypair()
            keys[mpid] = (public, secret, nacl.signing.SigningKey.generate())
        db, point = make_directory(work, keys)
        added_public, _ = zmq.curve_keypair()
        now_ms = int(time.time() * 1000)
        in_days = lambda days: time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_ms / 1000 + days * 86400))
        added = directory_cli("add-key", "--db", db, "--mpid", "ALFA",
                              "--curve-key", added_public.decode(),
                              "--from", "now", "--to", in_days(3))
        check(added.returncode == 0, "add-key with an end in 3 days")
        later_public, _ = zmq.curve_keypair()
        directory_cli("add-key", "--db", db, "--mpid", "BRVO",
                      "--curve-key", later_public.decode(), "--from", "now",
                      "--to", in_days(20))
        server_process, endpoint, feed, log_path = start_server(work, db)
        server = public_key(os.path.join(work, "directory.cert")).encode()
        sign_key = bytes.fromhex(
            public_key(os.path.join(work, "directory.sign")))
        context = zmq.Context()
        sockets = {mpid: connect(context, zmq.DEALER, keys[mpid], server,
                                 endpoint) for mpid in SUPPLIERS}
        started_ms = int(time.time() * 1000)
        test_registrations(sockets, point, sign_key)
        test_query_log(db, point, started_ms)
        test_rate_limit(sockets["DLTA"], db, sign_key)
        test_supplier_keys(sockets["ALFA"], sign_key, added_public.decode())
        test_expiry_warning(log_path)
        test_key_end(db, context, server, endpoint, sign_key)
        time.sleep(1.0)
        test_feed_and_revocation(work, db, context, feed, sockets, keys,
                                 server, endpoint, sign_key)
        for socket in sockets.values():
            socket.close()
        context.term()
    finally:
        if server_process:
            server_process.terminate()
            server_process.wait(10)
        if not os.environ.get("SDX_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
