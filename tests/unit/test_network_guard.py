"""The suite reaches loopback only: a connection anywhere else is refused before it leaves the machine."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from pytest_socket import SocketConnectBlockedError

TEST_NET = ("203.0.113.1", 80)  # TEST-NET-3 (RFC 5737): never routed


def test_a_plain_socket_cannot_connect_outside():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)  # without the guard: a timeout, not the guard's error
        with pytest.raises(SocketConnectBlockedError):
            sock.connect(TEST_NET)


def test_create_connection_cannot_reach_outside():
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(TEST_NET, timeout=2)


async def test_asyncio_and_aiohttp_cannot_reach_outside():
    with pytest.raises(SocketConnectBlockedError):
        await asyncio.wait_for(asyncio.open_connection(*TEST_NET), 2)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        with pytest.raises(SocketConnectBlockedError):
            await session.get(f"http://{TEST_NET[0]}:{TEST_NET[1]}/")


async def test_loopback_and_unix_sockets_still_work():
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for host in ("127.0.0.1", "localhost"):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"ping\n")
            await writer.drain()
            assert await reader.readline() == b"ping\n"
            writer.close()
            await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    left, right = socket.socketpair()  # what an event loop wakes itself with
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"
