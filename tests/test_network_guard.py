"""The autouse guard in conftest.py: tests run offline; loopback stays usable."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest

PUBLIC = ("93.184.216.34", 80)  # any routable, non-loopback address


def test_connecting_to_a_public_address_is_blocked() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, \
            pytest.raises(RuntimeError, match="test tried to reach the network") as info:
        s.connect(PUBLIC)
    assert type(info.value).__name__ == "NetworkBlocked"


def test_connect_ex_and_ipv6_are_blocked_too() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, \
            pytest.raises(RuntimeError, match="reach the network"):
        s.connect_ex(("10.1.2.3", 443))
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6, \
                pytest.raises(RuntimeError, match="reach the network"):
            s6.connect(("2001:db8::1", 443, 0, 0))


def test_http_libraries_hit_the_guard() -> None:
    with pytest.raises(RuntimeError, match="reach the network"):
        urllib.request.urlopen("http://93.184.216.34/", timeout=2)  # noqa: S310


def test_loopback_connections_still_work() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def accept() -> None:
            conn, _ = server.accept()
            conn.sendall(b"ok")
            conn.close()

        t = threading.Thread(target=accept)
        t.start()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            assert client.recv(2) == b"ok"
        t.join(5)
