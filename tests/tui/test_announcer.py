"""The announcer with real processes: a short Python program stands in for the speech program.

It writes when it started and ended, so the tests can see that calls are
spoken in the order they came and never over each other.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from pathlib import Path

from tui import announcer
from tui.announcer import Announcer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_log import read_log, speaker


def run(a: Announcer) -> threading.Thread:
    thread = threading.Thread(target=a.serve, daemon=True)
    thread.start()
    return thread


def wait_until(predicate, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_calls_are_spoken_in_order_and_never_overlap(tmp_path):
    log = tmp_path / "spoken.log"
    bells: list[float] = []
    done = []
    a = Announcer(
        speech=speaker(log), bell=lambda: bells.append(time.monotonic()), played=done.append, pause=0.05
    )
    thread = run(a)
    texts = ["Turno S 14, ventanilla Salud 2", "Turno B 3, ventanilla Banco 1", "Turno R 7, ventanilla Identidad 1"]
    # Three desks call at the same instant, from three threads.
    callers = [threading.Thread(target=a.announce, args=(t,)) for t in texts]
    for c in callers:
        c.start()
        c.join()
    wait_until(lambda: len(done) == 3)
    a.close()
    thread.join(5)
    rows = read_log(log)
    assert [r[0] for r in rows] == texts
    for before, after in itertools.pairwise(rows):
        assert after[1] >= before[2], "a call started before the previous one ended"
    # The chime (bell) rings before each call is spoken, and only once per call.
    assert len(bells) == 3
    for bell, (_text, start, _end) in zip(bells, rows, strict=True):
        assert bell <= start
    assert all(p.spoke for p in done)


def test_a_call_while_speaking_waits_for_the_end(tmp_path):
    log = tmp_path / "spoken.log"
    done = []
    a = Announcer(speech=speaker(log, 0.4), played=done.append, pause=0)
    thread = run(a)
    a.announce("primero")
    wait_until(a.busy.is_set)
    a.announce("segundo")
    wait_until(lambda: len(done) == 2)
    a.close()
    thread.join(5)
    (first, _s1, e1), (second, s2, _e2) = read_log(log)
    assert (first, second) == ("primero", "segundo")
    assert s2 >= e1


def test_without_speech_the_chime_still_sounds(tmp_path):
    bells = []
    done = []
    a = Announcer(speech=None, bell=lambda: bells.append(1), played=done.append, pause=0)
    thread = run(a)
    a.announce("Turno S 1")
    wait_until(lambda: done)
    a.close()
    thread.join(5)
    assert bells == [1]
    assert done[0].spoke is False and done[0].problem == "no_speech"


def test_chime_player_runs_before_speech(tmp_path):
    log = tmp_path / "spoken.log"
    chime = [*speaker(log, 0.05), "<chime>"]
    done = []
    a = Announcer(speech=speaker(log, 0.05), chime_player=chime, played=done.append, pause=0)
    thread = run(a)
    a.announce("Turno P 2")
    wait_until(lambda: done)
    a.close()
    thread.join(5)
    rows = read_log(log)
    # The chime command got the text as an extra argument it ignores; its own label is <chime>.
    assert [r[0] for r in rows] == ["<chime>", "Turno P 2"]
    assert rows[1][1] >= rows[0][2]


def test_a_hanging_speech_program_is_stopped(tmp_path):
    done = []
    hang = [sys.executable, "-c", "import time; time.sleep(30)"]
    a = Announcer(speech=hang, played=done.append, timeout=0.3, pause=0)
    thread = run(a)
    a.announce("Turno S 1")
    wait_until(lambda: done, 10)
    a.close()
    thread.join(5)
    assert done[0].problem == "timeout" and not done[0].spoke


def test_a_missing_speech_program_is_reported(tmp_path):
    done = []
    a = Announcer(speech=[str(tmp_path / "no-such-program")], played=done.append, pause=0)
    thread = run(a)
    a.announce("Turno S 1")
    wait_until(lambda: done)
    a.close()
    thread.join(5)
    assert done[0].problem == "cannot_start"


def test_close_cuts_the_current_call_and_drops_the_rest(tmp_path):
    done = []
    slow = [sys.executable, "-c", "import time; time.sleep(30)"]
    a = Announcer(speech=slow, played=done.append, pause=0)
    thread = run(a)
    a.announce("uno")
    a.announce("dos")
    wait_until(a.busy.is_set)
    started = time.monotonic()
    a.close()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 3
    assert [p.problem for p in done] == ["stopped"]
    before = a.pending()
    a.announce("tres")
    assert a.pending() == before  # nothing is queued once closed


def test_stale_calls_are_dropped(tmp_path):
    log = tmp_path / "spoken.log"
    done = []
    a = Announcer(speech=speaker(log, 0.01), played=done.append, pause=0, max_age=0.2)
    a.announce("viejo")
    time.sleep(0.4)
    a.announce("nuevo")
    thread = run(a)
    wait_until(lambda: len(done) == 2)
    a.close()
    thread.join(5)
    assert [(p.announcement.text, p.problem) for p in done] == [("viejo", "stale"), ("nuevo", "")]
    assert [r[0] for r in read_log(log)] == ["nuevo"]


def test_speech_program_is_found_on_the_path_with_a_spanish_voice(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert announcer.find_speech_command("es") is None
    program = tmp_path / "espeak-ng"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    assert announcer.find_speech_command("es") == [str(program), "-v", "es-419", "-s", "135"]
    assert announcer.find_speech_command("en")[1:3] == ["-v", "en"]


def test_chime_player_is_found_on_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert announcer.find_chime_player() is None
    program = tmp_path / "aplay"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    assert announcer.find_chime_player() == [str(program), "-q", str(announcer.sound_file())]


def test_shipped_chime_is_the_generated_one():
    path = announcer.sound_file()
    assert path is not None
    assert path.read_bytes() == announcer.chime_wav()
