"""A loopback TCP forwarder a test can cut, to take a server (PostgreSQL) away from a process
and give it back without touching the server itself."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.api.conftest import _free_port


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut()` drops every connection and refuses new
    ones (the server is down); `cut(hang=True)` accepts new ones and never answers (a hung
    server, or a network that drops packets); `restore()` forwards again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self._hang = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        self._listen()
        return self

    def cut(self, *, hang: bool = False) -> None:
        self._hang = hang
        if not hang:
            self._stop_listening()
        self._drop_connections()

    def restore(self) -> None:
        self._hang = False
        self._drop_connections()  # the ones held while hanging
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._stop_listening()
        self._drop_connections()

    def _listen(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: same port
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _shut(listener)

    def _drop_connections(self) -> None:
        with self._lock:
            dropped, self._open = self._open, set()
        for sock in dropped:
            _shut(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped listening
            self._keep(client)
            if self._hang:
                continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _shut(client)
                continue
            upstream.settimeout(None)
            self._keep(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with self._lock:
                self._open.discard(sock)
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    """Close `sock` and wake a thread blocked reading or accepting on it (close alone does not)."""
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextmanager
def tcp_proxy(host: str, port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy((host, port)).start()
    try:
        yield proxy
    finally:
        proxy.close()
