"""A guard that keeps the tests off the network: a connection to anything beyond this machine
is refused before it is made. Loopback (the test databases, servers the tests start) and local
sockets stay open; `responses` answers Twilio's REST API before any socket is opened."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest


class NetworkBlocked(RuntimeError):
    """A test tried to reach beyond this machine."""


def is_local(host: Any) -> bool:
    """Whether `host` (a name or an address) is this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): an address of this machine to bind to
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).split("%", 1)[0]  # an IPv6 zone, as in fe80::1%eth0
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name would be looked up in the DNS


class NetworkGuard:
    """Refuses, and remembers, every attempt to reach another machine."""

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def check(self, host: Any, port: Any = None) -> None:
        """NetworkBlocked unless `host` is this machine."""
        if is_local(host):
            return
        where = f"{host}:{port}" if port is not None else str(host)
        self.blocked.append(where)
        raise NetworkBlocked(f"tests may not reach the network (tried {where})")

    def check_address(self, sock: socket.socket, address: Any) -> None:
        """Check the address a socket is about to connect or send to."""
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return  # a local socket (AF_UNIX, say)
        host, port = (address[0], address[1]) if isinstance(address, tuple) else (address, None)
        self.check(host, port)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Put the guard in front of every way the standard library opens a connection."""
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_sendto = socket.socket.sendto
        real_getaddrinfo = socket.getaddrinfo

        def connect(sock: socket.socket, address: Any) -> None:
            self.check_address(sock, address)
            real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            self.check_address(sock, address)
            return real_connect_ex(sock, address)

        def sendto(sock: socket.socket, data: Any, *args: Any) -> int:
            self.check_address(sock, args[-1])
            return real_sendto(sock, data, *args)  # type: ignore[arg-type]

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            self.check(host, port)  # before the name goes anywhere near the DNS
            return real_getaddrinfo(host, port, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket.socket, "sendto", sendto)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
