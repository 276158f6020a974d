"""A kernel websocket that lets a dashboard visitor drive the widgets and nothing else.

Voilà runs the notebook on the server, but every visitor's page keeps a
websocket to its kernel so that ipywidgets can talk to their Python side. The
websocket itself is a general kernel channel: whoever holds it could send an
``execute_request`` and run code as the server's user. Voilà filters on message
type itself, but that list also lets ``shutdown_request`` and front-end
``comm_open`` through, looks at no channel, and lives in Voilà's kernel manager
where a configuration change can silently widen it. This class is the one place
that decides, and it decides by an explicit allowlist of (channel, msg_type).

Used by :func:`auditlib.dashboard.serve` through
``--Voila.kernel_websocket_connection_class``.
"""

from __future__ import annotations

import itertools
import json
import struct
from typing import Any

from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    serialize_msg_to_ws_v1,
)
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"

# What the dashboard's page actually sends (logged during the browser test, with
# ipywidgets 8): kernel_info_request on connecting; a comm_open to the
# jupyter.widget.control target, a comm_msg asking it for all widget states,
# and a comm_close of that comm; then a comm_msg for every widget change.
# comm_info_request is ipywidgets' fallback when the control comm is missing.
# Nothing on the control or stdin channel is needed, nor any other shell request.
ALLOWED: dict[str, frozenset[str]] = {
    "shell": frozenset({"comm_msg", "comm_info_request", "kernel_info_request", "comm_open", "comm_close"}),
}
# Every widget here is created by the kernel; a front-end comm_open to any other
# target would make the kernel instantiate objects of the visitor's choosing.
CLIENT_COMM_TARGETS = frozenset({"jupyter.widget.control"})


class Dropped(Exception):
    """The client's message is refused; the text says why, for the log."""


def _object(raw: Any, what: str) -> dict[str, Any]:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        # Strict UTF-8: the kernel decodes with errors="replace", and bytes that
        # read differently on each side must not get through.
        raw = bytes(raw).decode("utf-8")
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dict):
        raise Dropped(f"{what} is not an object")
    return value


def split_v1(frame: bytes) -> tuple[str, list[bytes]]:
    """The channel and parts of a v1 frame, refusing frames that are not well formed.

    jupyter_server's own reader trusts the leading count, so eight 0xff bytes
    make it build a list of 2**64 offsets and stall the server; every offset is
    checked here before anything is sliced.
    """
    if len(frame) < 8:
        raise Dropped("frame shorter than its header")
    count = int.from_bytes(frame[:8], "little")
    # channel start, channel end = first part start, one end per part: header,
    # parent_header, metadata, content and any buffers.
    if count < 2 + 4 or 8 * (count + 1) > len(frame):
        raise Dropped("bad offset count")
    offsets = [int.from_bytes(frame[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    if offsets[0] != 8 * (count + 1) or offsets[-1] != len(frame):
        raise Dropped("offsets do not span the frame")
    if any(a > b for a, b in itertools.pairwise(offsets)):
        raise Dropped("offsets out of order")
    channel = frame[offsets[0] : offsets[1]].decode("utf-8")
    return channel, [frame[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]


def parse_v1(ws_msg: bytes) -> tuple[Any, dict[str, Any], dict[str, Any], list[bytes]]:
    """channel, header, content and all raw parts of a v1 binary frame."""
    if not isinstance(ws_msg, (bytes, bytearray)):
        raise Dropped("text frame on the binary protocol")
    channel, parts = split_v1(bytes(ws_msg))
    return channel, _object(parts[0], "header"), _object(parts[3], "content"), parts


def rebuild_v1(channel: str, header: dict[str, Any], content: dict[str, Any], parts: list[bytes]) -> bytes:
    """The frame re-encoded from the header and content that were checked.

    The kernel gets v1 frames as raw parts and parses them with its own JSON
    reader (orjson when installed); re-encoding means it dispatches on exactly
    what was checked, whatever quirks (duplicate keys, odd escapes) the
    original bytes had.
    """
    dumped = [json.dumps(header).encode("utf-8"), parts[1], parts[2], json.dumps(content).encode("utf-8")]
    return serialize_msg_to_ws_v1([*dumped, *parts[4:]], channel)


def parse_legacy(ws_msg: str | bytes) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """channel, header and content of a legacy JSON (or legacy binary) message.

    The parent class parses the message again with the same parser and sends
    the resulting dict, so what the kernel sees is what was checked.
    """
    if isinstance(ws_msg, bytes):
        # Same trust-the-count problem as the v1 reader: bound it by the frame.
        nbufs = struct.unpack("!i", ws_msg[:4])[0] if len(ws_msg) >= 4 else 0
        if nbufs < 1 or 4 * (nbufs + 1) > len(ws_msg):
            raise Dropped("bad buffer count")
        msg = deserialize_binary_message(ws_msg)
    else:
        msg = json.loads(ws_msg)
    if not isinstance(msg, dict):
        raise Dropped("message is not an object")
    # The parent assumes shell when the channel is missing; check it as such.
    return msg.get("channel", "shell"), _object(msg.get("header"), "header"), _object(msg.get("content"), "content")


class WidgetOnlyConnection(ZMQChannelsWebsocketConnection):
    """Forwards only the widget messages in :data:`ALLOWED`; drops and logs everything else."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Comms this websocket opened itself: the only ones it may close, so a
        # visitor cannot detach the widgets the kernel created.
        self.client_comms: set[str] = set()
        # Proves in the server log that this class, not the stock one, is in use.
        self.log.info("voila_guard: widget-only kernel websocket for kernel %s", self.kernel_id)
        # When its page goes, Voilà's front end asks the server to shut the kernel down, with
        # the _xsrf cookie as its XSRF token; but no Voilà page ever sets that cookie, so the
        # request was refused (403) and the kernel lived on. Reading the token sets the cookie
        # on the websocket's handshake response, once per page.
        handler = kwargs.get("websocket_handler")
        if handler is not None:
            _ = handler.xsrf_token

    def check(self, channel: Any, header: dict[str, Any], content: dict[str, Any]) -> None:
        """Raise :class:`Dropped` unless the message is one the widgets need."""
        msg_type = header.get("msg_type")
        if not isinstance(channel, str) or not isinstance(msg_type, str):
            raise Dropped(f"no channel or msg_type (channel={channel!r}, msg_type={msg_type!r})")
        if msg_type not in ALLOWED.get(channel, frozenset()):
            raise Dropped(f"{msg_type!r} on channel {channel!r} is not a widget message")
        comm_id = content.get("comm_id")
        if msg_type == "comm_open":
            target = content.get("target_name")
            if target not in CLIENT_COMM_TARGETS or not isinstance(comm_id, str):
                raise Dropped(f"comm_open to target {target!r}")
            self.client_comms.add(comm_id)
        elif msg_type == "comm_close":
            if comm_id not in self.client_comms:
                raise Dropped("comm_close of a comm this client did not open")
            self.client_comms.discard(comm_id)

    def handle_incoming_message(self, incoming_msg: str | bytes) -> None:  # type: ignore[override]
        forwarded: str | bytes
        try:
            if self.subprotocol == V1_PROTOCOL:
                channel, header, content, parts = parse_v1(incoming_msg)  # type: ignore[arg-type]
                self.check(channel, header, content)
                forwarded = rebuild_v1(channel, header, content, parts)
            else:
                channel, header, content = parse_legacy(incoming_msg)
                self.check(channel, header, content)
                forwarded = incoming_msg
        except Dropped as exc:
            self.log.warning("voila_guard: dropped a client message: %s", exc)
            return
        except Exception as exc:  # unparseable input is hostile or broken: never forward it
            self.log.warning("voila_guard: dropped an unparseable client message (%s)", type(exc).__name__)
            return
        super().handle_incoming_message(forwarded)  # type: ignore[arg-type]
