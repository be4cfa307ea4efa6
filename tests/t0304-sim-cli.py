#!/usr/bin/python3
"""sdx-agent-sim as a program: import, meters, and run against a ROUTER
written here with python3-zmq, which plays the node's side of the agent
protocol. Prints TAP."""

import calendar
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM = os.path.join(ROOT, "build", "bin", "sdx-agent-sim")
DATA = os.path.join(ROOT, "data", "lcl", "halfhourly_2013")
count = 0
failed = 0


def ok(condition, name, detail=None):
    global count, failed
    count += 1
    print(("ok" if condition else "not ok") + " %d - %s" % (count, name))
    if not condition:
        failed += 1
        if detail is not None:
            for line in str(detail).splitlines():
                print("#   " + line)
    sys.stdout.flush()
    return condition


def run(*args):
    return subprocess.run([SIM] + list(args), capture_output=True, text=True,
                          timeout=60)


def utc_ms(year, month, day, hour=0):
    return calendar.timegm((year, month, day, hour, 0, 0)) * 1000


def test_usage(folder):
    result = run()
    ok(result.returncode == 2, "no command exits 2", result.stderr)
    result = run("frobnicate")
    ok(result.returncode == 2, "unknown command exits 2")
    ok("unknown command 'frobnicate'" in result.stderr,
       "unknown command is named", result.stderr)
    for command in ("import", "meters", "run"):
        result = run(command, "--help")
        ok(result.returncode == 0 and "usage: sdx-agent-sim " + command
           in result.stdout, "%s --help prints its usage" % command)
    result = run("import", os.path.join(DATA, "MAC000002.csv"))
    ok(result.returncode == 2 and "missing --db FILE" in result.stderr,
       "import without --db is a usage error", result.stderr)
    result = run("import", "--db", os.path.join(folder, "x.db"))
    ok(result.returncode == 2 and "missing CSV_OR_DIR" in result.stderr,
       "import without files is a usage error", result.stderr)
    result = run("meters", "--db", os.path.join(folder, "x.db"), "--connect",
                 "ipc://x")
    ok(result.returncode == 2 and "'--connect' is not used" in
       result.stderr, "meters rejects --connect", result.stderr)
    result = run("run", "--db", os.path.join(folder, "x.db"))
    ok(result.returncode == 2 and "missing --connect" in result.stderr,
       "run without --connect is a usage error", result.stderr)


def test_import(db, folder):
    files = [os.path.join(DATA, name) for name in
             ("MAC000002.csv", "MAC000008.csv")]
    result = run("import", "--db", db, *files)
    ok(result.returncode == 0, "import exits 0", result.stderr)
    ok("import done: files=2 rows=32015 new=32015" in result.stdout,
       "import summary counts both files", result.stdout)
    ok("import progress: files=2" in result.stderr,
       "import shows progress on stderr", result.stderr)

    result = run("import", "--db", db, files[0])
    ok(result.returncode == 0 and "new=0 already_stored=17520" in
       result.stdout, "re-import stores nothing new", result.stdout)

    bad = os.path.join(folder, "bad.csv")
    with open(bad, "w") as out:
        out.write("LCLid,tstp,energy(kWh/hh)\n"
                  "MAC000002,2013-01-01 00:15:00, 0.1 \n")
    result = run("import", "--db", db, bad)
    ok(result.returncode == 0, "file with a bad row exits 0", result.stderr)
    ok("%s:2: off-grid time" % bad in result.stderr,
       "bad row is printed as FILE:LINE: reason", result.stderr)

    missing = os.path.join(folder, "missing.csv")
    result = run("import", "--db", db, missing)
    ok(result.returncode == 1 and "cannot open" in result.stderr,
       "missing file exits 1 and says why", result.stderr)


def test_meters(db):
    result = run("meters", "--db", db)
    lines = result.stdout.splitlines()
    ok(result.returncode == 0 and len(lines) == 2, "meters lists two meters",
       result.stdout)
    ok(lines and lines[0] ==
       "1200000002107,SIM-MAC000002,electricity,sim,MAC000002",
       "meters line has mpxn,meter_id,fuel,head_end,household", lines)
    result = run("meters", "--db", db, "--csv")
    lines = result.stdout.splitlines()
    ok(lines and lines[0] == "mpxn,fuel,meter_id,smart,head_end,household",
       "meters --csv prints the header", lines)
    ok(len(lines) == 3 and lines[1] ==
       "1200000002107,electricity,SIM-MAC000002,true,sim,MAC000002",
       "meters --csv row", lines)


def read_line(process, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            return process.stdout.readline()
    return ""


def receive(router, timeout_ms):
    if not router.poll(timeout_ms):
        return None, None
    routing_id, payload = router.recv_multipart()
    return routing_id, msgpack.unpackb(payload, raw=False)


def receive_type(router, wanted, timeout_ms):
    deadline = time.time() + timeout_ms / 1000
    while time.time() < deadline:
        routing_id, message = receive(router, 200)
        if message and message.get("type") == wanted:
            return routing_id, message
    return None, None


def test_run(db, folder):
    endpoint = "ipc://%s/agents" % folder
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.bind(endpoint)
    process = subprocess.Popen(
        [SIM, "run", "--db", db, "--connect", endpoint, "--name", "sim-t"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = read_line(process, 10)
        ok(line == "sdx-agent-sim ready endpoint=%s meters=2\n" % endpoint,
           "run prints the readiness line", line)

        agent, hello = receive_type(router, "agent.hello", 5000)
        ok(hello is not None and hello.get("agent") == "sim-t",
           "agent sends hello with its name", hello)
        ok(hello is not None and hello.get("head_ends") == ["sim"],
           "hello lists head end sim", hello)

        cid = bytes(range(16))
        request = {"v": 1, "type": "agent.request", "ts": int(time.time() *
                   1000), "cid": cid, "request": "read.profile",
                   "mpxn": "1200000002107", "meter_id": "SIM-MAC000002",
                   "ranges": [[utc_ms(2013, 10, 26, 23),
                               utc_ms(2013, 10, 28)]]}
        if agent is not None:
            router.send_multipart([agent, msgpack.packb(request)])
        _, reply = receive_type(router, "agent.reply", 5000)
        ok(reply is not None and reply.get("cid") == cid,
           "reply carries the cid", reply)
        reply = reply or {}
        ok(reply.get("status") == "ok", "reply status ok", reply.get("error"))
        periods = (reply.get("result") or {}).get("periods", [])
        ok(len(periods) == 50 and reply.get("units") == 50,
           "2013-10-27 has 50 periods over the wire", len(periods))
        ok(periods and periods[4]["start"] == utc_ms(2013, 10, 27, 1) and
           periods[4]["period"] == 5 and periods[4]["date"] == "2013-10-27",
           "period 5 starts 01:00Z", periods[4] if len(periods) > 4 else None)
        ok(all(isinstance(p["wh"], int) for p in periods),
           "every wh is an integer")

        _, ping = receive_type(router, "agent.ping", 3000)
        ok(ping is not None, "agent sends heartbeats")

        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        ok(code == 0, "run stops cleanly on SIGTERM", code)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        router.close(0)
        context.term()

    result = run("run", "--db", os.path.join(folder, "none.db"), "--connect",
                 endpoint)
    ok(result.returncode == 1 and "create it with 'sdx-agent-sim import" in
       result.stderr, "run with a missing database says how to create it",
       result.stderr)


def main():
    if not os.access(SIM, os.X_OK):
        print("Bail out! %s is not built; run make first" % SIM)
        return 255
    folder = tempfile.mkdtemp(prefix="sdx-t0304-")
    try:
        db = os.path.join(folder, "sim.db")
        test_usage(folder)
        test_import(db, folder)
        test_meters(db)
        test_run(db, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
