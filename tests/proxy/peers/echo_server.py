"""A Python websockets echo server on 127.0.0.1, port 0: prints
{"event": "listening", "port": N} and echoes every message until it is
killed. With CERT KEY arguments it serves TLS."""

import asyncio
import json
import ssl
import sys

from websockets.asyncio.server import serve


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


asyncio.run(main())
