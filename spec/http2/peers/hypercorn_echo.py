"""An echo WebSocket endpoint served by Hypercorn (Debian's python3-hypercorn) over HTTP/2 and TLS.

Hypercorn answers an extended CONNECT (RFC 8441) and speaks RFC 6455 frames through wsproto, with
permessage-deflate. Text comes back as it came, binary reversed; "close NNNN reason" makes the
server close with that code. Binds 127.0.0.1 on a free port and prints "listening PORT".
Usage: hypercorn_echo.py CERT KEY
"""
import asyncio
import socket
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config


def say(line):
    """One whole line per write: a reader may look at the output between two writes."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"not here"})
        return
    await receive()  # websocket.connect
    offered = scope.get("subprotocols") or []
    accept = {"type": "websocket.accept"}
    if "echo" in offered:
        accept["subprotocol"] = "echo"
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            say(f"disconnect {message.get('code')}")
            return
        text = message.get("text")
        if text is not None:
            if text.startswith("close "):
                _, code, reason = (text + " ").split(" ", 2)
                await send({"type": "websocket.close", "code": int(code), "reason": reason.strip()})
                say(f"closed {code}")
                return
            await send({"type": "websocket.send", "text": "http/" + scope.get("http_version", "?") + " " + text})
        else:
            await send({"type": "websocket.send", "bytes": bytes(reversed(message["bytes"]))})


def main():
    cert, key = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.certfile = cert
    config.keyfile = key
    config.alpn_protocols = ["h2"]
    config.loglevel = "WARNING"
    say(f"listening {sock.getsockname()[1]}")
    asyncio.run(serve(app, config))


if __name__ == "__main__":
    main()
