"""A fake ESC/POS printer at the far end of a pseudo-terminal, for tests.

It reads the master side of the pty, keeps every byte, and answers the
real-time status requests (DLE EOT n) the way an ESC/POS printer does.
"""

from __future__ import annotations

import os
import select
import threading

PAPER_OK = 0x12  # bits 1 and 4 are fixed to 1 in every status reply
OFFLINE_OK = 0x12


class FakePrinter:
    """The printer's end of the cable: records what it is sent and answers status requests."""

    def __init__(self, paper: int | None = PAPER_OK, offline: int | None = OFFLINE_OK, reads: bool = True):
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.paper = paper
        self.offline = offline
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True) if reads else None
        if self._thread:
            self._thread.start()

    def _serve(self) -> None:
        scanned = 0
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                continue
            self.received += chunk
            while True:
                at = self.received.find(b"\x10\x04", scanned)
                if at < 0 or at + 2 >= len(self.received):
                    break
                n = self.received[at + 2]
                scanned = at + 3
                reply = {4: self.paper, 2: self.offline}.get(n)
                if reply is not None:
                    os.write(self.master, bytes([reply]))

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        os.close(self.master)
        os.close(self.slave)
