#!/usr/bin/python3
"""A directory client written from docs/directory.md alone, with Debian's
python3-zmq, python3-msgpack and python3-nacl: it starts the real
sdx-directory, queries it over CURVE and verifies the signatures of the
replies independently of the C code."""
import os
import re
import shutil
import signal
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


def start_directory(work):
    if subprocess.call([SDX, "keygen", "--dir", work, "--name", "directory"],
                       stdout=subprocess.DEVNULL) != 0:
        print("Bail out! sdx keygen failed")
        sys.exit(1)
    client_public, client_secret = zmq.curve_keypair()
    signing = nacl.signing.SigningKey.generate()
    db = os.path.join(work, "directory.db")
    point = mpan("120002330596")

    with open(os.path.join(work, "suppliers.csv"), "w") as f:
        f.write("mpid,name,endpoint,curve_key,sign_key\n")
        f.write("PYTH,Python Client,tcp://127.0.0.1:9,%s,%s\n" % (
            client_public.decode(), signing.verify_key.encode().hex()))
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

    log = open(os.path.join(work, "directory.log"), "w")
    process = subprocess.Popen([
        DIRECTORY, "serve", "--db", db,
        "--cert", os.path.join(work, "directory.cert"),
        "--signing-key", os.path.join(work, "directory.sign_secret"),
        "--bind", "tcp://127.0.0.1:*", "--ttl", "30"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    line = process.stdout.readline().strip()
    prefix = "sdx-directory ready endpoint="
    if not line.startswith(prefix):
        process.kill()
        print("Bail out! no readiness line, got %r" % line)
        sys.exit(1)
    keys = {
        "client_public": client_public,
        "client_secret": client_secret,
        "server": public_key(os.path.join(work, "directory.cert")).encode(),
        "sign": bytes.fromhex(public_key(os.path.join(work,
                                                      "directory.sign"))),
    }
    return process, line[len(prefix):], keys, point


def connect(context, endpoint, keys):
    socket = context.socket(zmq.DEALER)
    socket.curve_publickey = keys["client_public"]
    socket.curve_secretkey = keys["client_secret"]
    socket.curve_serverkey = keys["server"]
    socket.linger = 0
    socket.connect(endpoint)
    return socket


def request(socket, fields):
    message = {"v": 1, "id": os.urandom(16),
               "ts": int(time.time() * 1000)}
    message.update(fields)
    socket.send(msgpack.packb(message, use_bin_type=True))
    if not socket.poll(3000):
        return message, None
    return message, msgpack.unpackb(socket.recv(), raw=False)


def verify(keys, reply):
    try:
        nacl.signing.VerifyKey(keys["sign"]).verify(
            DOMAIN + reply["answer"], reply["sig"])
        return True
    except nacl.exceptions.BadSignatureError:
        return False


def main():
    work = tempfile.mkdtemp(prefix="sdx-t0212.")
    process = None
    try:
        process, endpoint, keys, point = start_directory(work)
        context = zmq.Context()
        socket = connect(context, endpoint, keys)

        sent, reply = request(socket, {"type": "dir.lookup", "mpxn": point})
        check(reply is not None, "lookup gets a reply")
        check(reply["status"] == "ok", "status ok")
        check(reply["id"] == sent["id"], "reply echoes the request id")
        check(reply["type"] == "dir.lookup", "reply echoes the type")
        check(len(reply["sig"]) == 64, "sig is 64 bytes")
        check(verify(keys, reply), "signature verifies over domain + answer")
        answer = msgpack.unpackb(reply["answer"], raw=False)
        check(answer["kind"] == "supply_point", "answer kind supply_point")
        check(answer["mpxn"] == point, "answer for the mpxn asked")
        check(answer["installing"] == "PYTH", "installing supplier")
        check(answer["registrations"][0][0] == "PYTH", "registered supplier")
        check(answer["registrations"][0][2] is None, "open registration")
        check(answer["expires"] - answer["issued"] == 30000,
              "answer lives for --ttl")

        tampered = dict(reply)
        tampered["answer"] = reply["answer"][:-1] + bytes(
            [reply["answer"][-1] ^ 1])
        check(not verify(keys, tampered), "tampered answer fails")

        sent, reply = request(socket, {"type": "dir.suppliers"})
        check(reply is not None and verify(keys, reply),
              "supplier list verifies")
        answer = msgpack.unpackb(reply["answer"], raw=False)
        check([s["mpid"] for s in answer["suppliers"]] == ["PYTH"],
              "supplier list holds PYTH")
        check(len(answer["suppliers"][0]["sign_key"]) == 32,
              "sign_key is 32 bytes")

        sent, reply = request(socket, {"type": "dir.lookup",
                                       "mpxn": mpan("120002330597")})
        check(reply is not None and reply["status"] == "not_found",
              "unknown mpxn is not_found")
        check(reply is not None and "answer" not in reply,
              "not_found has no answer")

        sent, reply = request(socket, {"type": "dir.supplier", "mpid": 7})
        check(reply is not None and reply["status"] == "invalid",
              "mistyped mpid is invalid")
        check(reply is not None and "'mpid'" in reply["error"],
              "error names the key")

        sent, reply = request(socket, {"type": "dir.delete"})
        check(reply is not None and reply["status"] == "unsupported",
              "unknown type is unsupported")
        socket.close()
        context.term()
    finally:
        if process:
            process.send_signal(signal.SIGTERM)
            try:
                check(process.wait(10) == 0, "directory exits 0 on SIGTERM")
            except subprocess.TimeoutExpired:
                process.kill()
                check(False, "directory exits 0 on SIGTERM")
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
