"""A TCP proxy on loopback that can stop answering, like a database server whose process was stopped.

A stopped server (SIGSTOP, some failovers) still accepts connections, because the kernel completes the TCP
handshake, but never sends a byte. The proxy forwards to a real server until `stall()`; from then on it
accepts and reads nothing and forwards nothing, in both directions, until `resume()`. It works in front of
any server the tests start, so the tests need not know how to pause it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from tests.image.container import free_port


class StallingProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        # A stalled server's kernel accepts, but nothing answers: not even the server's greeting.
        self._flowing.wait()
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        self._sockets.append(server)
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        while True:
            self._flowing.wait()
            try:
                data = source.recv(65536)
                # Bytes read just before a stall stay here until it ends, as in a stopped server's buffers.
                self._flowing.wait()
                if not data or self._closed.is_set():
                    break
                destination.sendall(data)
            except OSError:
                break
        for sock in (source, destination):
            with contextlib.suppress(OSError):
                sock.close()


@contextlib.contextmanager
def stalling_proxy(target_port: int) -> Iterator[StallingProxy]:
    proxy = StallingProxy(target_port)
    try:
        yield proxy
    finally:
        proxy.close()
