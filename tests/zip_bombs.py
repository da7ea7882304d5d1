"""Zip bombs built in a second: one chunk deflated with a full flush (a self-contained, byte-aligned block) and
repeated, so a 2 GB member costs 2 MB of disk and no compression time. Shared by tests and bench/."""

from __future__ import annotations

import struct
import zlib

ZEROS_MB = 2048  # 2 GB of NUL bytes
WHATSAPP_MB = 200  # 200 MB of WhatsApp lines


def repeated_zip(name: str, chunk: bytes, times: int, *, declared_size: int | None = None) -> bytes:
    """A zip holding one deflated member `name` = `chunk` * `times` (its sizes below 4 GB; no zip64).

    `declared_size` writes another uncompressed size into the headers (an archive that lies)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = block * times + zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    size = len(chunk) * times if declared_size is None else declared_size
    raw_name = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(body), size, len(raw_name), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(body), size,
                          len(raw_name), 0, 0, 0, 0, 0, 0) + raw_name
    offset = len(local) + len(raw_name) + len(body)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), offset, 0)
    return local + raw_name + body + central + end


def zeros_bomb() -> bytes:
    return repeated_zip("_chat.txt", bytes(1 << 20), ZEROS_MB)


def whatsapp_lines(size: int = 1 << 20) -> bytes:
    line = "12/07/2024, 15:05 - 陳小姐: A100 一百件的報價收到了,下週五前交貨\n".encode()
    return line * (size // len(line))


def whatsapp_bomb(mb: int = WHATSAPP_MB) -> bytes:
    return repeated_zip("WhatsApp Chat with 陳小姐.txt", whatsapp_lines(), mb)
