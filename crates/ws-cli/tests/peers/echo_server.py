"""An echo server on Python `websockets` for the wsp tests: listens on
127.0.0.1 port 0 and prints {"event": "listening", "port": N}; for each
connection prints {"event": "open", ...} with the request's path and
headers, the chosen subprotocol and the negotiated extensions, then echoes
every message, text as text and binary as binary, until "bye" (text or
binary), which it answers with close 1000 "bye". Runs until killed."""

import asyncio
import json
import sys

from websockets.asyncio.server import serve


def report(**event):
    print(json.dumps(event), flush=True)


def choose_subprotocol(connection, offered):
    # The first we speak among the client's offers; none is fine too.
    return next((p for p in ["chat.v2", "chat.v1"] if p in offered), None)


async def handler(ws):
    report(
        event="open",
        path=ws.request.path,
        headers={k.lower(): v for k, v in ws.request.headers.raw_items()},
        subprotocol=ws.subprotocol,
        extensions=ws.response.headers.get("Sec-WebSocket-Extensions"),
    )
    async for message in ws:
        if message in ("bye", b"bye"):
            await ws.close(1000, "bye")
            return
        await ws.send(message)


async def main():
    async with serve(
        handler,
        "127.0.0.1",
        0,
        select_subprotocol=choose_subprotocol,
        compression="deflate",
        ping_interval=None,
    ) as server:
        report(event="listening", port=server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
