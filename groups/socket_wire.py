"""One live event to many sockets: framed once, the same bytes written to each socket of the process.

Through ASGI every ``websocket.send`` of every socket goes daphne's server -> its protocol -> autobahn's
``sendMessage``, which encodes and frames the same text again for each socket (and formats log arguments that are
then dropped), and Twisted's ``write`` only buffers it and registers the socket with the event loop, to write it and
unregister it in a later turn. For one group line to 1,000 sockets that was most of the server's CPU
(docs/performance.md, "Live channel fan-out CPU").

So the events the hub hands out (``groups/delivery.py``) take a shorter way when the socket is one of daphne's:

* the frame is built once per event, by autobahn itself (``factory.prepareMessage``, its own tool for broadcasts:
  a server frame is unmasked, so it is the same bytes for every connection) and kept on the event;
* each socket gets those bytes written straight to its TCP socket when Twisted has nothing queued for it (a
  non-blocking ``send``, as asyncio's own transports and the ``websockets`` library do); what the kernel does not
  take, and every other case, goes to Twisted's ``transport.write`` as before, so order is kept.

Anything else (other servers, ``channels.testing``, TLS terminated in daphne, a socket that is closing, autobahn
with a send queue of its own) uses the ordinary ASGI ``send``; ``write_event`` says whether it wrote.
"""

from __future__ import annotations

import functools

FRAME_KEY = "wire_frame"  # where the framed bytes are kept on the hub's event dict, shared by all its sockets


def daphne_protocol(send):
    """The autobahn protocol behind a socket's ASGI ``send`` when daphne serves it (``partial(server.handle_reply,
    protocol)``), else None."""
    if not isinstance(send, functools.partial) or len(send.args) != 1:
        return None
    protocol = send.args[0]
    if not all(hasattr(protocol, name) for name in ("factory", "transport", "send_queue", "STATE_OPEN")):
        return None
    return protocol


def write_event(protocol, event: dict) -> bool:
    """Write the hub event's text (``event["payload"]``) as one WebSocket text frame; False when it cannot here."""
    if protocol.state != protocol.STATE_OPEN or protocol.send_queue:
        return False
    frame = event.get(FRAME_KEY)
    if frame is None:
        prepared = protocol.factory.prepareMessage(event["payload"].encode(), isBinary=False, doNotCompress=True)
        frame = event[FRAME_KEY] = prepared.payloadHybi
    transport = protocol.transport
    sock = getattr(transport, "socket", None)
    # A plain TCP connection with nothing buffered: the frame can go to the kernel now, ahead of nothing.
    if sock is not None and not getattr(transport, "_tempDataLen", 1) and transport.dataBuffer == b"":
        if not transport.connected or transport._writeDisconnected:
            return True  # closed for writing: Twisted's write would drop it too
        try:
            sent = sock.send(frame)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            sent = 0  # reset by the peer: Twisted's own write path finds out and closes the connection
        if sent == len(frame):
            return True
        frame = frame[sent:]
    transport.write(frame)
    return True
