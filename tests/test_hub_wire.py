"""The circle's frame encoded once (rooms.hub.wire_text_frame) is the frame a websocket server
sends: checked against an independent implementation, the `websockets` library's parser, at
each of the three length encodings (RFC 6455 5.2) and with text outside ASCII."""

from __future__ import annotations

import pytest
from websockets.frames import OP_TEXT, Frame
from websockets.streams import StreamReader

from rooms.hub import wire_text_frame


def parse(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("the frame was incomplete")


@pytest.mark.parametrize("text", [
    "",
    "a" * 125,  # the largest length in the first byte
    "a" * 126,  # the smallest with a 16-bit length
    "\u062d\u0644\u0642\u0629 " * 3000,  # Arabic, 27,000 bytes
    "x" * 65535,  # the largest 16-bit length
    "x" * 65536,  # the smallest 64-bit length
    "\U0001f91d" * 40000,  # 160,000 bytes of 4-byte characters
])
def test_the_frame_is_one_unmasked_final_text_frame(text: str) -> None:
    data = wire_text_frame(text)
    frame = parse(data)
    assert frame.opcode == OP_TEXT and frame.fin
    assert not (frame.rsv1 or frame.rsv2 or frame.rsv3)
    assert frame.data.decode() == text
    assert data == Frame(OP_TEXT, text.encode()).serialize(mask=False)
