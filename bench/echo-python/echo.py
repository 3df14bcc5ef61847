"""Echo server on Python's `websockets` (asyncio), the reference peer of the
compression rows: permessage-deflate as `websockets` offers it by default
(it accepts the client's parameters), every message sent back.

    python echo.py [--addr 127.0.0.1:0]     # prints `listening on ws://ADDR`

Run from a virtual environment with `websockets` installed
(scripts/bench-matrix.sh makes one).
"""

import argparse
import asyncio

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(addr):
    host, port = addr.rsplit(":", 1)
    async with serve(echo, host, int(port), max_size=64 << 20, ping_interval=None) as server:
        sock = server.sockets[0].getsockname()
        print(f"listening on ws://{sock[0]}:{sock[1]}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--addr", default="127.0.0.1:0")
    asyncio.run(main(parser.parse_args().addr))
