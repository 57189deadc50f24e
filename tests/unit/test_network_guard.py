"""The guard in tests/conftest.py: a test that reaches beyond this machine fails, before a single
packet leaves it; loopback stays open. 192.0.2.1 is TEST-NET-1, where nothing answers anyway."""

from __future__ import annotations

import socket

import pytest

from tests.network import NetworkBlocked, NetworkGuard

TEST_NET = ("192.0.2.1", 80)


def test_a_connection_beyond_this_machine_is_refused_before_it_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[object] = []
    # Stands in for the socket layer below the guard, to see what would reach it.
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: made.append(address))
    guard = NetworkGuard()
    guard.install(monkeypatch)

    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(TEST_NET)
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("api.twilio.com", 443)  # not even a DNS lookup
    with socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))

    assert made == [("127.0.0.1", 9)]
    assert guard.blocked == ["192.0.2.1:80", "api.twilio.com:443"]


def test_loopback_stays_open() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ("socket.create_connection(TEST_NET, timeout=1)", {"failed": 1}),
        # Code under test that swallows the error does not hide the attempt.
        (
            "try:\n        socket.create_connection(TEST_NET, timeout=1)\n"
            "    except Exception:\n        pass",
            {"passed": 1, "errors": 1},  # the run fails at the test's teardown
        ),
    ],
    ids=["raises", "swallows"],
)
def test_a_test_that_reaches_the_network_fails(
    pytester: pytest.Pytester, body: str, outcome: dict[str, int]
) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.conftest"]\n')
    pytester.makepyfile(
        f"import socket\n\nTEST_NET = {TEST_NET!r}\n\n\ndef test_reaches_out():\n    {body}\n"
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*192.0.2.1:80*"])
