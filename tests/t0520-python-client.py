#!/usr/bin/python3
"""A client written only from docs/protocol.md reads a meter from a real node.

The test starts sdx-directory, ALFA's sdx-node and its sim agent (the
programs in build/bin) in a temporary folder. It then acts as supplier
PYCL, whose CURVE and Ed25519 keys come from Python's zmq and nacl, and
talks to ALFA's node over CURVE with a DEALER socket. It reads a profile
and the registers, checks the results against the recorded data, decodes
and verifies each receipt on its own (signature, fields, price, chain),
acknowledges the receipts, retries a request, and sends a stale one.
Every process it started is stopped at the end, also on failure.

Set SDX_KEEP=1 to keep the temporary folder for inspection.
"""
import csv
import datetime
import decimal
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from zoneinfo import ZoneInfo

import msgpack
import nacl.exceptions
import nacl.signing
import zmq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
HOUSEHOLD = "MAC000002"
DATA_FILE = os.path.join(ROOT, "data", "lcl", "halfhourly_2013",
                         HOUSEHOLD + ".csv")
SERVING = "ALFA"
CLIENT = "PYCL"
HALF_HOUR_MS = 30 * 60 * 1000
READY_TIMEOUT_S = 15
REPLY_TIMEOUT_MS = 10000
RECEIPT_DOMAIN = b"sdx/v1/receipt\0"
ACK_DOMAIN = b"sdx/v1/ack\0"
LONDON = ZoneInfo("Europe/London")

# The bilateral tariff ALFA charges PYCL, with prices in micro-units of GBP.
TARIFF_ID = "ALFA-PYCL-2026"
# Request type: (fixed price, price per unit).
PRICES = {
    "meter.info": (1000, 0),
    "read.registers": (20000, 0),
    "read.profile": (10000, 150),
}
TARIFF_TEXT = (
    "# Bilateral tariff: ALFA serves meter reads to PYCL.\n"
    "tariff-id = %s\n"
    "serving = ALFA\n"
    "requesting = PYCL\n"
    "currency = GBP\n"
    "# price TYPE EFFECTIVE_FROM FIXED_MICRO PER_UNIT_MICRO\n" % TARIFF_ID
    + "".join("price %s 2020-01-01 %d %d\n" % (t, fixed, unit)
              for t, (fixed, unit) in PRICES.items()))

# PYCL gains the supply point from ALFA at noon UTC on 2013-06-01.
CHANGE_OF_SUPPLIER = "2013-06-01T12:00:00Z"


class SetupError(Exception):
    """A step of the cluster set-up failed; the test cannot go on."""


class Tap:
    """Prints TAP lines and counts failures."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, condition, name):
        self.count += 1
        if not condition:
            self.failed += 1
        print("%s %d - %s" % ("ok" if condition else "not ok", self.count,
                              name), flush=True)
        return condition

    def equal(self, got, expected, name):
        passed = self.ok(got == expected, name)
        if not passed:
            self.diag("got:      %r" % (got,))
            self.diag("expected: %r" % (expected,))
        return passed

    @staticmethod
    def diag(text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)


def utc_ms(text):
    """Convert "YYYY-MM-DDTHH:MM:SSZ" to UTC milliseconds."""
    moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp()
               * 1000)


def now_ms():
    return int(time.time() * 1000)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def csv_quote(text):
    return '"' + text.replace('"', '""') + '"'


def zpl_value(path, key):
    """Return the quoted value of KEY in a ZPL file (czmq certificate or
    sdx signing key file)."""
    with open(path) as f:
        for line in f:
            match = re.match(r'\s*%s\s*=\s*"(.*)"\s*$' % re.escape(key), line)
            if match:
                return match.group(1)
    raise SetupError("%s has no %s" % (path, key))


class Cluster:
    """The processes and files of the test, all under one temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sdx-t0520.")
        self.processes = []

    def run(self, *args):
        """Run a set-up command and return its stdout."""
        done = subprocess.run(args, cwd=self.dir, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise SetupError("%s failed with exit status %d:\n%s%s" % (
                " ".join(args), done.returncode, done.stdout, done.stderr))
        return done.stdout

    def start(self, name, *args):
        """Start a daemon, wait for its " ready " line and return it."""
        log = open(os.path.join(self.dir, name + ".log"), "w")
        process = subprocess.Popen(args, cwd=self.dir, stdout=subprocess.PIPE,
                                   stderr=log, text=True)
        log.close()
        self.processes.append(process)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            readable, _, _ = select.select([process.stdout], [], [],
                                           deadline - time.monotonic())
            if not readable:
                break
            line = process.stdout.readline()
            if not line:
                break
            if " ready " in line:
                return line.strip()
        if process.poll() is None:
            problem = "printed no readiness line within %d s" % (
                READY_TIMEOUT_S)
        else:
            problem = "exited with status %d before its readiness line" % (
                process.returncode)
        with open(os.path.join(self.dir, name + ".log")) as f:
            raise SetupError("%s %s:\n%s" % (name, problem, f.read()))

    def stop(self):
        """Stop every started process: SIGTERM, then SIGKILL after 5 s."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()
        self.processes = []
        if os.environ.get("SDX_KEEP"):
            Tap.diag("kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def bin_path(name):
    return os.path.join(BIN, name)


def set_up(cluster, client_curve_public, client_sign_public):
    """Create the keys, CSV files and tariff, start the directory, ALFA's
    node and its sim agent. Return what the client needs to know."""
    top = cluster.dir
    os.makedirs(os.path.join(top, "directory"))
    home = os.path.join(top, SERVING)
    os.makedirs(os.path.join(home, "tariffs"))

    cluster.run(bin_path("sdx"), "keygen", "--dir",
                os.path.join(top, "directory"), "--name", "directory")
    printed = cluster.run(bin_path("sdx"), "keygen", "--dir", home)
    keys = dict(line.split("=", 1) for line in printed.split())
    for name in ("directory.cert", "directory.sign"):
        shutil.copy(os.path.join(top, "directory", name), home)
    directory_endpoint = "tcp://127.0.0.1:%d" % free_port()
    node_bind = "tcp://127.0.0.1:%d" % free_port()
    with open(os.path.join(home, "node.conf"), "w") as f:
        f.write("mpid = %s\nbind = %s\ndirectory = %s\n"
                % (SERVING, node_bind, directory_endpoint))

    tariff_path = os.path.join(home, "tariffs", TARIFF_ID + ".tariff")
    with open(tariff_path, "w") as f:
        f.write(TARIFF_TEXT)

    cluster.run(bin_path("sdx-agent-sim"), "import", "--db",
                os.path.join(home, "sim.db"), DATA_FILE)
    meters = list(csv.DictReader(cluster.run(
        bin_path("sdx-agent-sim"), "meters", "--db",
        os.path.join(home, "sim.db"), "--csv").splitlines()))
    meter = next(m for m in meters if m["household"] == HOUSEHOLD)

    with open(os.path.join(top, "suppliers.csv"), "w") as f:
        f.write("mpid,name,endpoint,curve_key,sign_key\n")
        f.write("%s,Alfa Energy,%s,%s,%s\n" % (
            SERVING, node_bind, csv_quote(keys["curve_key"]),
            keys["sign_key"]))
        # The client serves nothing; its endpoint is only a listing.
        f.write("%s,Python Client,tcp://127.0.0.1:2,%s,%s\n" % (
            CLIENT, csv_quote(client_curve_public), client_sign_public))
    with open(os.path.join(top, "supply_points.csv"), "w") as f:
        f.write("mpxn,fuel,meter_id,smart,installing,head_end\n")
        f.write("%s,%s,%s,%s,%s,%s\n" % (meter["mpxn"], meter["fuel"],
                                         meter["meter_id"], meter["smart"],
                                         SERVING, meter["head_end"]))
    with open(os.path.join(top, "registrations.csv"), "w") as f:
        f.write("mpxn,supplier,from,to\n")
        f.write("%s,%s,2013-01-01T00:00:00Z,%s\n" % (
            meter["mpxn"], SERVING, CHANGE_OF_SUPPLIER))
        f.write("%s,%s,%s,\n" % (meter["mpxn"], CLIENT, CHANGE_OF_SUPPLIER))

    db = os.path.join(top, "directory", "directory.db")
    cluster.run(bin_path("sdx-directory"), "init", "--db", db)
    cluster.run(bin_path("sdx-directory"), "load", "--db", db,
                "--suppliers", "suppliers.csv",
                "--supply-points", "supply_points.csv",
                "--registrations", "registrations.csv")
    cluster.start("directory", bin_path("sdx-directory"), "serve",
                  "--db", db,
                  "--cert", os.path.join(top, "directory", "directory.cert"),
                  "--signing-key",
                  os.path.join(top, "directory", "directory.sign_secret"),
                  "--bind", directory_endpoint, "--ttl", "60")
    ready = cluster.start("node", bin_path("sdx-node"), "--home", home)
    node_endpoint = ready.split("endpoint=", 1)[1].split()[0]
    cluster.start("agent", bin_path("sdx-agent-sim"), "run", "--db",
                  os.path.join(home, "sim.db"), "--connect",
                  "ipc://%s/run/agents" % home, "--name", "ALFA-sim")
    return {
        "endpoint": node_endpoint,
        "server_key": zpl_value(os.path.join(home, "node.cert"),
                                "public-key"),
        "sign_key": bytes.fromhex(zpl_value(os.path.join(home, "node.sign"),
                                            "public-key")),
        "tariff_hash": hashlib.blake2b(TARIFF_TEXT.encode(),
                                       digest_size=32).digest(),
        "mpxn": meter["mpxn"],
    }


def recorded_wh():
    """Read the household's file: UTC start in ms -> Wh, rounded half up
    from the kWh text, as the sim agent stores it."""
    readings = {}
    with open(DATA_FILE) as f:
        for row in csv.DictReader(f):
            start = datetime.datetime.strptime(row["tstp"],
                                               "%Y-%m-%d %H:%M:%S")
            start_ms = int(start.replace(
                tzinfo=datetime.timezone.utc).timestamp() * 1000)
            kwh = decimal.Decimal(row["energy(kWh/hh)"].strip())
            readings[start_ms] = int((kwh * 1000).quantize(
                decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))
    return readings


def settlement_of(start_ms):
    """Return the Europe/London settlement date and period of a UTC ms."""
    utc = datetime.datetime.fromtimestamp(start_ms / 1000,
                                          datetime.timezone.utc)
    local = utc.astimezone(LONDON)
    midnight = datetime.datetime(local.year, local.month, local.day,
                                 tzinfo=LONDON)
    elapsed_ms = start_ms - int(midnight.timestamp() * 1000)
    return local.strftime("%Y-%m-%d"), elapsed_ms // HALF_HOUR_MS + 1


class Client:
    """A DEALER socket with CURVE, speaking the envelope of the protocol."""

    def __init__(self, context, curve_public, curve_secret, info):
        self.socket = context.socket(zmq.DEALER)
        self.socket.linger = 0
        self.socket.curve_publickey = curve_public
        self.socket.curve_secretkey = curve_secret
        self.socket.curve_serverkey = info["server_key"].encode()
        self.socket.connect(info["endpoint"])

    @staticmethod
    def request(type_, request_id=None, ts=None, **keys):
        message = {"v": 1, "type": type_, "id": request_id or os.urandom(16),
                   "ts": now_ms() if ts is None else ts}
        message.update(keys)
        return message

    def exchange(self, message):
        """Send one message and return (reply bytes, reply map) of the reply
        with the same id, or (None, None) on timeout."""
        self.socket.send(msgpack.packb(message, use_bin_type=True))
        deadline = time.monotonic() + REPLY_TIMEOUT_MS / 1000
        while True:
            remaining = int((deadline - time.monotonic()) * 1000)
            if remaining <= 0 or not self.socket.poll(remaining):
                return None, None
            frame = self.socket.recv()
            reply = msgpack.unpackb(frame, raw=False)
            if reply.get("id") == message["id"]:
                return frame, reply
            Tap.diag("dropped a reply to another id: %r" % (reply,))

    def exchange_with_retry(self, message):
        """Exchange, retrying with the same id and a fresh ts while the node
        answers unavailable (for example before the agent's hello arrived),
        as docs/protocol.md section 6.6 prescribes."""
        for _ in range(50):
            frame, reply = self.exchange(message)
            if reply is None or reply.get("status") != "unavailable":
                return frame, reply
            time.sleep(0.2)
            message = dict(message, ts=now_ms())
        return frame, reply


RECEIPT_FIELDS = ["version", "request_id", "serving", "requesting", "mpxn",
                  "type", "ranges", "units", "tariff_id", "tariff_hash",
                  "price", "served_at", "seq", "prev_hash"]


def decode_receipt(body):
    items = msgpack.unpackb(body, raw=False)
    if not isinstance(items, list) or len(items) != len(RECEIPT_FIELDS):
        return None
    return dict(zip(RECEIPT_FIELDS, items))


def signature_valid(public_key, domain, body, signature):
    try:
        nacl.signing.VerifyKey(public_key).verify(domain + body, signature)
        return True
    except nacl.exceptions.BadSignatureError:
        return False


def check_receipt(tap, label, reply, message, info, seq, prev_hash):
    """Check one receipt of an ok reply field by field; return its body."""
    wire = reply.get("receipt") or {}
    body, sig = wire.get("body", b""), wire.get("sig", b"")
    body_read = tap.ok(isinstance(body, bytes) and len(body) > 0,
                       label + " body is bin")
    sig_read = tap.equal(len(sig), 64, label + " signature is 64 bytes")
    if not (body_read and sig_read):
        return body
    key = info["sign_key"]
    tap.ok(signature_valid(key, RECEIPT_DOMAIN, body, sig),
           label + " signature verifies with ALFA's key")
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    tap.ok(not signature_valid(key, RECEIPT_DOMAIN, tampered, sig),
           label + " signature fails on a changed body")
    tap.ok(not signature_valid(key, ACK_DOMAIN, body, sig),
           label + " signature fails under another domain")

    receipt = decode_receipt(body)
    if not tap.ok(receipt is not None, label + " body is a 14-item array"):
        return body
    tap.equal(msgpack.packb(list(receipt.values()), use_bin_type=True), body,
              label + " body is canonical")
    tap.equal(receipt["version"], 1, label + " version")
    tap.equal(receipt["request_id"], message["id"], label + " request id")
    tap.equal(receipt["serving"], SERVING, label + " serving MPID")
    tap.equal(receipt["requesting"], CLIENT, label + " requesting MPID")
    tap.equal(receipt["mpxn"], message["mpxn"], label + " mpxn")
    tap.equal(receipt["type"], message["type"], label + " type")
    expected_ranges = reply["served"]["ranges"] if "served" in reply else []
    tap.equal(receipt["ranges"], expected_ranges, label + " ranges")
    tap.equal(receipt["units"], reply.get("units"), label + " units")
    tap.equal(receipt["tariff_id"], TARIFF_ID, label + " tariff id")
    tap.equal(receipt["tariff_hash"], info["tariff_hash"],
              label + " tariff hash is BLAKE2b-256 of the tariff file")
    fixed, per_unit = PRICES[message["type"]]
    tap.equal(receipt["price"], fixed + per_unit * receipt["units"],
              label + " price follows the tariff")
    tap.ok(abs(receipt["served_at"] - now_ms()) < 60000,
           label + " served_at is now")
    tap.equal(receipt["seq"], seq, label + " seq")
    tap.equal(receipt["prev_hash"], prev_hash, label + " prev_hash")
    return body


def check_profile(tap, reply, info):
    """Check a read.profile reply clipped at the change of supplier."""
    tap.equal(reply.get("status"), "ok", "profile status ok")
    if reply.get("status") != "ok":
        tap.diag(reply)
        return
    change_ms = utc_ms(CHANGE_OF_SUPPLIER)
    day_end_ms = utc_ms("2013-06-02T00:00:00Z")
    served = reply.get("served", {})
    tap.equal(served.get("requested"),
              [utc_ms("2013-06-01T00:00:00Z"), day_end_ms],
              "profile served map echoes the requested range")
    tap.equal(served.get("ranges"), [[change_ms, day_end_ms]],
              "profile is clipped to PYCL's registration")
    tap.equal(served.get("clipped"), True, "profile served map says clipped")
    tap.ok(isinstance(served.get("note"), str) and served.get("note"),
           "profile served map has a note")

    periods = reply.get("result", {}).get("periods", [])
    expected_count = (day_end_ms - change_ms) // HALF_HOUR_MS
    tap.equal(len(periods), expected_count, "profile has 24 half hours")
    readings = recorded_wh()
    starts, dates, wh, quality = [], [], [], []
    for i, period in enumerate(periods):
        start = change_ms + i * HALF_HOUR_MS
        starts.append(period.get("start") == start)
        dates.append((period.get("date"), period.get("period"))
                     == settlement_of(start))
        wh.append(period.get("wh") == readings.get(start))
        quality.append(period.get("quality")
                       == ("A" if start in readings else "M"))
    tap.ok(periods and all(starts), "profile starts every 30 minutes")
    tap.ok(periods and all(dates),
           "profile settlement dates and periods are London local")
    tap.ok(periods and all(wh), "profile Wh equal the recorded data")
    tap.ok(periods and all(quality), "profile quality marks recorded values")
    actual = sum(1 for p in periods if p.get("quality") == "A")
    tap.equal(reply.get("units"), actual,
              "profile units count the recorded periods")


def check_registers(tap, reply):
    tap.equal(reply.get("status"), "ok", "registers status ok")
    if reply.get("status") != "ok":
        tap.diag(reply)
        return
    readings = recorded_wh()
    result = reply.get("result", {})
    tap.ok("served" not in reply, "registers reply has no served map")
    tap.equal(reply.get("units"), 1, "registers units is 1")
    tap.equal(result.get("read_at"), max(readings) + HALF_HOUR_MS,
              "registers read_at is the end of the last reading")
    registers = result.get("registers", [{}])
    tap.equal(len(registers), 1, "registers has one register")
    tap.equal(registers[0].get("obis"), "1-0:1.8.0*255",
              "register is the import register")
    tap.equal(registers[0].get("name"), "import", "register name is import")
    tap.equal(registers[0].get("wh"), sum(readings.values()),
              "register Wh is the sum of the recorded data")


def ack_message(signing_key, body, seq, ack_id=None):
    ack_body = msgpack.packb(
        [1, hashlib.blake2b(body, digest_size=32).digest(), SERVING, CLIENT,
         seq, now_ms()], use_bin_type=True)
    signature = signing_key.sign(ACK_DOMAIN + ack_body).signature
    return Client.request("receipt.ack", request_id=ack_id,
                          ack={"body": ack_body, "sig": signature})


def run_checks(tap, client, info, signing_key):
    mpxn = info["mpxn"]
    zero_hash = bytes(32)

    profile = Client.request("read.profile", mpxn=mpxn,
                             **{"from": utc_ms("2013-06-01T00:00:00Z"),
                                "to": utc_ms("2013-06-02T00:00:00Z")})
    _, reply = client.exchange_with_retry(profile)
    if not tap.ok(reply is not None, "profile request answered"):
        return
    tap.equal(reply.get("type"), "read.profile", "profile reply type")
    tap.equal(reply.get("v"), 1, "profile reply version")
    check_profile(tap, reply, info)
    first_body = check_receipt(tap, "profile receipt", reply, profile, info,
                               1, zero_hash)

    registers = Client.request("read.registers", mpxn=mpxn)
    first_frame, reply = client.exchange_with_retry(registers)
    if not tap.ok(reply is not None, "registers request answered"):
        return
    check_registers(tap, reply)
    second_body = check_receipt(
        tap, "registers receipt", reply, registers, info, 2,
        hashlib.blake2b(first_body, digest_size=32).digest())
    first_registers_reply = reply

    for seq, body in ((1, first_body), (2, second_body)):
        ack = ack_message(signing_key, body, seq)
        _, ack_reply = client.exchange(ack)
        tap.equal((ack_reply or {}).get("status"), "ok",
                  "acknowledgement of seq %d stored" % seq)
        tap.equal((ack_reply or {}).get("type"), "receipt.ack",
                  "acknowledgement reply type")
        if ack_reply and ack_reply.get("status") != "ok":
            tap.diag(ack_reply)
    forged = ack_message(nacl.signing.SigningKey.generate(), first_body, 1)
    _, forged_reply = client.exchange(forged)
    tap.equal((forged_reply or {}).get("status"), "invalid",
              "acknowledgement signed by another key is invalid")
    tap.equal((forged_reply or {}).get("reason"), "bad_ack",
              "forged acknowledgement reason is bad_ack")

    retry = dict(registers, ts=now_ms())
    retry_frame, retry_reply = client.exchange(retry)
    tap.ok(retry_frame is not None, "retry answered")
    tap.ok(retry_frame == first_frame,
           "retry returns the original reply byte for byte")
    tap.equal((retry_reply or {}).get("receipt"),
              first_registers_reply.get("receipt"),
              "retry returns the same receipt")

    info_request = Client.request("meter.info", mpxn=mpxn)
    _, info_reply = client.exchange_with_retry(info_request)
    receipt = decode_receipt(
        ((info_reply or {}).get("receipt") or {}).get("body", b"\x90")) or {}
    tap.equal(receipt.get("seq"), 3, "retry did not take a seq of the chain")
    tap.equal(receipt.get("price"), PRICES["meter.info"][0],
              "meter.info price is the fixed price")

    stale = Client.request("read.registers", ts=now_ms() - 10 * 60 * 1000,
                           mpxn=mpxn)
    _, stale_reply = client.exchange(stale)
    tap.equal((stale_reply or {}).get("status"), "stale",
              "request 10 minutes old is stale")
    tap.equal((stale_reply or {}).get("id"), stale["id"],
              "stale reply carries the request id")
    tap.ok(stale_reply is not None and "receipt" not in stale_reply,
           "stale reply has no receipt")
    tap.ok(stale_reply is not None and stale_reply.get("error"),
           "stale reply explains itself")


def main():
    tap = Tap()
    for name in ("sdx", "sdx-node", "sdx-directory", "sdx-agent-sim"):
        if not os.access(os.path.join(BIN, name), os.X_OK):
            print("Bail out! %s/%s is missing: run make all" % (BIN, name))
            return 255
    curve_public, curve_secret = zmq.curve_keypair()
    signing_key = nacl.signing.SigningKey.generate()
    cluster = Cluster()
    # SIGTERM from prove or a user must still stop the daemons.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    context = zmq.Context()
    try:
        info = set_up(cluster, curve_public.decode(),
                      signing_key.verify_key.encode().hex())
        client = Client(context, curve_public, curve_secret, info)
        try:
            run_checks(tap, client, info, signing_key)
        finally:
            client.socket.close()
    except SetupError as error:
        Tap.diag(error)
        print("Bail out! cluster set-up failed")
        return 255
    finally:
        context.term()
        cluster.stop()
    print("1..%d" % tap.count)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
