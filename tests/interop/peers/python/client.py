"""The websockets interop client: connects to the URL it is given, runs the
script (steps.py), then exits (0 when every step succeeded)."""

import ssl

from websockets.asyncio.client import connect

import steps


async def run(args, script):
    context = ssl.create_default_context(cafile=args.ca) if args.ca else None
    async with connect(
        args.url,
        ssl=context,
        compression="deflate" if args.deflate else None,
        max_size=steps.MAX_SIZE,
        ping_interval=None,
    ) as ws:
        steps.report(
            event="open",
            extensions=ws.response.headers.get("Sec-WebSocket-Extensions"),
        )
        return await steps.run_steps(ws, script)


if __name__ == "__main__":
    parser = steps.arguments("client")
    parser.add_argument("url", help="ws:// or wss:// URL")
    parser.add_argument("--ca", help="PEM certificate to trust for wss://")
    steps.main("client", run, parser.parse_args())
