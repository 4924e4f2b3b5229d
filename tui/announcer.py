"""Spoken calls for the waiting area: a chime, then the number and the desk, one call at a time.

Calls come from every desk at any moment, but a waiting room can follow only
one voice: calls are queued and played strictly in order by a single loop
(run in a worker thread by the public display), each one finished before the
next begins. The chime always sounds (terminal bell, plus a sound file when a
player is installed); speech needs a speech program (espeak-ng), found at
start. Nothing here knows about Textual, so it is tested on its own with real
processes.
"""

from __future__ import annotations

import io
import math
import queue
import shutil
import struct
import subprocess
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

CHIME_FILE = "chime.wav"
# Voices by catalogue language: Latin American Spanish is closest to what Peruvians hear.
VOICES = {"es": "es-419", "en": "en"}


@dataclass(frozen=True)
class Announcement:
    """One call to announce; `text` is spoken, `shown` is what the screen says."""

    text: str
    shown: str = ""
    queued_at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Played:
    """What happened to one announcement, for the screen and for the tests."""

    announcement: Announcement
    spoke: bool
    problem: str = ""


def find_speech_command(language: str = "es") -> list[str] | None:
    """espeak-ng (or the older espeak) with a voice for the language, or None when none is installed."""
    for program in ("espeak-ng", "espeak"):
        path = shutil.which(program)
        if path:
            return [path, "-v", VOICES.get(language, language), "-s", "135"]
    return None


def sound_file() -> Path | None:
    """The shipped chime, when the package holds it as a plain file."""
    try:
        path = Path(str(resources.files("tui").joinpath("sounds", CHIME_FILE)))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def find_chime_player(sound: Path | None = None) -> list[str] | None:
    """A command that plays the chime file, or None: the terminal bell alone then."""
    sound = sound or sound_file()
    if sound is None:
        return None
    players = (
        ("pw-play", []),
        ("paplay", []),
        ("aplay", ["-q"]),
        ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"]),
    )
    for program, args in players:
        path = shutil.which(program)
        if path:
            return [path, *args, str(sound)]
    return None


def chime_wav(rate: int = 16000) -> bytes:
    """A soft two-note chime (E5 then C5, fading), the sound file shipped as tui/sounds/chime.wav."""
    frames = bytearray()
    for freq, seconds in ((659.25, 0.35), (523.25, 0.55)):
        n = int(rate * seconds)
        for i in range(n):
            envelope = math.exp(-4.0 * i / n) * min(1.0, i / (0.01 * rate))
            sample = 0.45 * envelope * math.sin(2 * math.pi * freq * i / rate)
            frames += struct.pack("<h", int(sample * 32767))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


class Announcer:
    """A queue of calls and the one loop that plays them, never two at once.

    `bell` is called at the start of each announcement (the display rings the
    terminal bell through it); `played` is called after each one. `speech`
    and `chime_player` are command lines; the text is added as the last
    argument of `speech`. A program that runs longer than `timeout` is
    stopped, and an announcement that waited more than `max_age` seconds is
    dropped: a call from minutes ago would only confuse the room.
    """

    def __init__(
        self,
        *,
        speech: Sequence[str] | None,
        chime_player: Sequence[str] | None = None,
        bell: Callable[[], None] | None = None,
        played: Callable[[Played], None] | None = None,
        timeout: float = 20.0,
        pause: float = 0.4,
        max_age: float = 120.0,
    ) -> None:
        self.speech = list(speech) if speech else None
        self.chime_player = list(chime_player) if chime_player else None
        self.bell = bell
        self.played = played
        self.timeout = timeout
        self.pause = pause
        self.max_age = max_age
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._stop = threading.Event()
        self.busy = threading.Event()

    @property
    def speaks(self) -> bool:
        return self.speech is not None

    def announce(self, text: str, shown: str = "") -> None:
        """Queue a call; safe from any thread. Returns at once."""
        if not self._stop.is_set():
            self._queue.put(Announcement(text, shown or text))

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Stop the loop: the call being spoken is cut short, queued ones are dropped."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def serve(self) -> None:
        """Play queued calls one after another until close(); run it in one worker thread."""
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if item is None or self._stop.is_set():
                break
            if time.monotonic() - item.queued_at > self.max_age:
                self._report(Played(item, spoke=False, problem="stale"))
                continue
            self.busy.set()
            try:
                self._report(self._play(item))
            finally:
                self.busy.clear()
            if self.pause and not self._stop.is_set():
                self._stop.wait(self.pause)

    def _play(self, item: Announcement) -> Played:
        if self.bell is not None:
            self.bell()
        if self.chime_player:
            self._run(self.chime_player)
        if self.speech is None:
            return Played(item, spoke=False, problem="no_speech")
        problem = self._run([*self.speech, item.text])
        return Played(item, spoke=not problem, problem=problem)

    def _run(self, command: list[str]) -> str:
        """Run a program to its end (or the timeout, or close()); return a problem word or ''."""
        try:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        except OSError:
            return "cannot_start"
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                code = proc.wait(timeout=0.05)
                return "" if code == 0 else f"exit_{code}"
            except subprocess.TimeoutExpired:
                pass
            if self._stop.is_set() or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                return "stopped" if self._stop.is_set() else "timeout"

    def _report(self, result: Played) -> None:
        if self.played is not None:
            self.played(result)
