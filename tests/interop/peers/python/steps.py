"""The step interpreter shared by the Python interop server and client.

A Rust test hands the peer a script (a JSON list of steps); the peer runs it
on its one connection and reports everything it sees as JSON lines on stdout,
each tagged with the index of the step it belongs to. The Rust side compares
those reports with what it sent and received itself. The same protocol is
spoken by the Node peer (../node/steps.js).

Steps:
  {"op": "echo"}                       receive one message (frame by frame,
                                       counting fragments), report it, send
                                       it back whole, report that
  {"op": "send", "payload": P,         send a message built from P, split
   "fragment": N | null}               into frames of N characters (text) or
                                       bytes (binary) when N is given
  {"op": "ping", "data": HEX}          send a ping, wait for its pong
  {"op": "close", "code": C,           start the close handshake, report the
   "reason": R}                        Close frame that came back
  {"op": "wait_close"}                 wait for the other side's Close
  {"op": "none"}                       nothing (the other side acts alone)

Payloads P:
  {"kind": "text", "unit": S, "repeat": N}   S repeated N times
  {"kind": "binary", "len": N, "fill": "random" | "pattern"}
"""

import argparse
import asyncio
import hashlib
import json
import random
import sys

from websockets.exceptions import ConnectionClosed

# Limits raised for the 16 MiB scenarios (the default is 1 MiB).
MAX_SIZE = 64 * 1024 * 1024


def report(**event):
    print(json.dumps(event), flush=True)


def make_payload(spec):
    if spec["kind"] == "text":
        return spec["unit"] * spec["repeat"]
    n = spec["len"]
    if spec["fill"] == "random":
        return random.randbytes(n)
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def describe(data):
    raw = data.encode() if isinstance(data, str) else bytes(data)
    described = {
        "kind": "text" if isinstance(data, str) else "binary",
        "len": len(raw),
        "sha1": hashlib.sha1(raw).hexdigest(),
    }
    if len(raw) <= 64:
        described["preview"] = raw.hex()
    return described


def split(data, size):
    return [data[i : i + size] for i in range(0, len(data), size)] or [data[:0]]


def report_closed(index, ws):
    received = ws.protocol.close_rcvd
    report(
        step=index,
        event="closed",
        code=received.code if received else None,
        reason=received.reason if received else None,
    )


async def run_step(index, step, ws):
    op = step["op"]
    if op == "echo":
        parts = [part async for part in ws.recv_streaming()]
        data = parts[0][:0].join(parts)
        report(step=index, event="recv", fragments=len(parts), **describe(data))
        await ws.send(data)
        report(step=index, event="sent", fragments=1, **describe(data))
    elif op == "send":
        data = make_payload(step["payload"])
        size = step.get("fragment")
        if size:
            pieces = split(data, size)
            await ws.send(pieces)
            # websockets sends each piece with FIN clear, then an empty
            # final frame (it does not look ahead in the iterable).
            frames = len(pieces) + 1
        else:
            frames = 1
            await ws.send(data)
        report(step=index, event="sent", fragments=frames, **describe(data))
    elif op == "ping":
        data = bytes.fromhex(step["data"])
        pong = await ws.ping(data)
        await pong
        report(step=index, event="pong", data=data.hex())
    elif op == "close":
        await ws.close(step["code"], step["reason"])
        report_closed(index, ws)
    elif op == "wait_close":
        try:
            message = await ws.recv()
        except ConnectionClosed:
            report_closed(index, ws)
        else:
            raise AssertionError(f"expected a Close, got a message: {describe(message)}")
    elif op == "none":
        report(step=index, event="idle")
    else:
        raise ValueError(f"unknown step {step!r}")


async def run_steps(ws, steps):
    """Runs every step; True when all succeeded. A failure is reported with
    its step index and ends the connection."""
    for index, step in enumerate(steps):
        try:
            await run_step(index, step, ws)
        except Exception as error:  # reported, then the peer exits non-zero
            report(step=index, event="error", error=f"{type(error).__name__}: {error}")
            return False
    return True


def arguments(role):
    parser = argparse.ArgumentParser(description=f"websockets interop {role}")
    parser.add_argument("--steps", required=True, help="the script, a JSON list")
    parser.add_argument("--deflate", action="store_true", help="enable permessage-deflate")
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    return parser


def main(role, run, args):
    """Runs `run` within the timeout; exits 0 only if every step succeeded."""
    try:
        ok = asyncio.run(asyncio.wait_for(run(args, json.loads(args.steps)), args.timeout))
    except asyncio.TimeoutError:
        report(event="error", error=f"{role} timed out after {args.timeout} s")
        ok = False
    except Exception as error:
        report(event="error", error=f"{type(error).__name__}: {error}")
        ok = False
    if ok:
        report(event="done")
    sys.exit(0 if ok else 1)
