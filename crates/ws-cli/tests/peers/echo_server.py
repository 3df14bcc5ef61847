"""An echo server on Python `websockets` for the wsp tests: listens on
127.0.0.1 port 0 and prints {"event": "listening", "port": N}; for each
connection prints {"event": "open", ...} with the request's path and
headers, the chosen subprotocol and the negotiated extensions, then echoes
every message, text as text and binary as binary. Runs until killed."""

import asyncio
import json
import sys

from websockets.asyncio.server import serve


def report(**event):
    print(json.dumps(event), flush=True)


async def handler(ws):
    report(
        event="open",
        path=ws.request.path,
        headers={k.lower(): v for k, v in ws.request.headers.raw_items()},
        subprotocol=ws.subprotocol,
        extensions=ws.response.headers.get("Sec-WebSocket-Extensions"),
    )
    async for message in ws:
        await ws.send(message)


async def main():
    async with serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=["chat.v2", "chat.v1"],
        compression="deflate",
        ping_interval=None,
    ) as server:
        report(event="listening", port=server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
