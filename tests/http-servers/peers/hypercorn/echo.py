"""A WebSocket echo server that is not ours, for the RFC 8441 client's
tests: an ASGI app under Hypercorn, which serves HTTP/1.1 and h2c and
accepts WebSockets over HTTP/2 (it announces SETTINGS_ENABLE_CONNECT_PROTOCOL).

Binds 127.0.0.1 port 0, prints {"event": "listening", "port": N}, and one
{"event": "websocket", "http_version": V, "path": P} line per WebSocket.
"""

import asyncio
import json
import socket

from hypercorn.asyncio import serve
from hypercorn.config import Config


def report(**fields):
    print(json.dumps(fields), flush=True)


async def lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"not found"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    report(event="websocket", http_version=scope["http_version"], path=scope["path"])
    while True:
        event = await receive()
        if event["type"] != "websocket.receive":
            return
        if event.get("text") is not None:
            await send({"type": "websocket.send", "text": event["text"]})
        else:
            await send({"type": "websocket.send", "bytes": event["bytes"]})


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    config = Config()
    config.bind = [f"fd://{listener.fileno()}"]
    config.websocket_max_message_size = 8 * 1024 * 1024
    report(event="listening", port=listener.getsockname()[1])
    asyncio.run(serve(app, config))


if __name__ == "__main__":
    main()
