"""The websockets interop server: listens on 127.0.0.1, port 0, prints
{"event": "listening", "port": N}, runs the script (steps.py) on the first
connection, then exits (0 when every step succeeded)."""

import asyncio
import ssl

from websockets.asyncio.server import serve

import steps


async def run(args, script):
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    finished = asyncio.get_running_loop().create_future()

    async def handler(ws):
        steps.report(
            event="open",
            path=ws.request.path,
            extensions=ws.response.headers.get("Sec-WebSocket-Extensions"),
        )
        ok = await steps.run_steps(ws, script)
        if not finished.done():
            finished.set_result(ok)

    async with serve(
        handler,
        "127.0.0.1",
        0,
        ssl=context,
        compression="deflate" if args.deflate else None,
        max_size=steps.MAX_SIZE,
        ping_interval=None,
    ) as server:
        steps.report(event="listening", port=server.sockets[0].getsockname()[1])
        return await finished


if __name__ == "__main__":
    parser = steps.arguments("server")
    parser.add_argument("--cert", help="PEM certificate: serve TLS")
    parser.add_argument("--key", help="PEM private key of --cert")
    steps.main("server", run, parser.parse_args())
