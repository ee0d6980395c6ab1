"""A hub event to many daphne sockets: framed once, the same bytes on every wire, and order kept behind whatever
Twisted still has queued for a socket (groups/socket_wire.py)."""

from __future__ import annotations

import functools
import socket

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol

from groups.socket_wire import FRAME_KEY, daphne_protocol, write_event


class FakeTransport:
    """The parts of Twisted's TCP transport the wire reads: its socket and its write buffer."""

    def __init__(self, sock):
        self.socket = sock
        self.connected = 1
        self._writeDisconnected = False
        self.dataBuffer = b""
        self._tempDataLen = 0
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self._tempDataLen += len(data)


def open_protocol(factory):
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    protocol = WebSocketServerProtocol()
    protocol.factory = factory
    protocol.state = protocol.STATE_OPEN
    protocol.send_queue = []
    protocol.transport = FakeTransport(ours)
    return protocol, theirs


def text_frame(payload: bytes) -> bytes:
    return bytes([0x81, len(payload)]) + payload  # FIN + text, unmasked, length < 126


def test_one_event_is_framed_once_and_the_same_bytes_reach_every_socket(monkeypatch):
    factory = WebSocketServerFactory()
    prepared = []
    real_prepare = factory.prepareMessage
    monkeypatch.setattr(factory, "prepareMessage", lambda *a, **k: prepared.append(1) or real_prepare(*a, **k))
    sockets = [open_protocol(factory) for _ in range(3)]
    event = {"payload": '{"type": "message", "body": "路口"}'}

    # when the hub hands the event to three sockets
    wrote = [write_event(protocol, event) for protocol, _ in sockets]

    # then it was framed once, and each peer reads exactly one text frame with the event's UTF-8 text
    expected = text_frame(event["payload"].encode())
    assert wrote == [True, True, True]
    assert len(prepared) == 1 and event[FRAME_KEY] == expected
    assert [peer.recv(1024) for _, peer in sockets] == [expected] * 3
    assert all(protocol.transport.written == [] for protocol, _ in sockets)


def test_a_socket_with_data_still_queued_gets_the_frame_behind_it():
    protocol, peer = open_protocol(WebSocketServerFactory())
    protocol.transport.write(b"earlier")  # Twisted has not written this yet

    write_event(protocol, {"payload": "{}"})

    # then nothing jumped the queue: the frame went to Twisted's buffer after the earlier bytes
    assert protocol.transport.written == [b"earlier", text_frame(b"{}")]
    peer.setblocking(False)
    try:
        assert peer.recv(1024) == b""
    except BlockingIOError:
        pass  # nothing on the wire yet, as it should be


def test_a_closing_socket_or_another_server_goes_through_asgi():
    protocol, _peer = open_protocol(WebSocketServerFactory())
    protocol.state = protocol.STATE_CLOSING

    assert write_event(protocol, {"payload": "{}"}) is False

    async def asgi_send(message):
        pass

    assert daphne_protocol(asgi_send) is None  # channels.testing, uvicorn, ...
    assert daphne_protocol(functools.partial(lambda protocol, message: None, protocol)) is protocol
