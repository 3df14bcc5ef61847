"""A Python websockets echo server on 127.0.0.1, port 0: prints
{"event": "listening", "port": N}, echoes every message, and exits when
stdin closes. With CERT KEY arguments it serves TLS."""

import asyncio
import json
import os
import ssl
import sys
import threading

from websockets.asyncio.server import serve


def exit_at_eof():
    sys.stdin.read()
    os._exit(0)


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    context = None
    if len(sys.argv) == 3:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
    async with serve(echo, "127.0.0.1", 0, ssl=context) as server:
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"event": "listening", "port": port}), flush=True)
        await asyncio.Future()


threading.Thread(target=exit_at_eof, daemon=True).start()
asyncio.run(main())
