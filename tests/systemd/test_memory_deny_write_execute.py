"""MemoryDenyWriteExecute=yes in every unit: does the program still run under it?

systemd enforces it with a seccomp filter; the kernel (6.3 and later) offers
the same rule to any process through prctl(PR_SET_MDWE). The program's parts
run here under that rule: the CLI, SQLite, the cryptography used by the
ledger, a Textual app drawing frames, and a backup.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PRELUDE = textwrap.dedent(
    """
    import ctypes, errno, mmap, os, sys
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        print("unsupported", errno.errorcode.get(ctypes.get_errno()))
        sys.exit(0)
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        pass
    else:
        raise SystemExit("writable and executable memory was still allowed")
    """
)

def run_under_mdwe(body: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + body, *args], capture_output=True, text=True, timeout=120,
    )


def skip_if_unsupported(result: subprocess.CompletedProcess[str]) -> None:
    if result.stdout.startswith("unsupported"):
        pytest.skip(f"the kernel has no PR_SET_MDWE ({result.stdout.strip()})")


def test_the_rule_is_really_enforced():
    """The check can fail: code that maps writable, executable memory is stopped."""
    result = run_under_mdwe(
        "m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\nprint('mapped')"
    )
    skip_if_unsupported(result)
    assert result.returncode != 0 and "PermissionError" in result.stderr


def test_ledger_crypto_sqlite_and_backup_run_under_it(tmp_path: Path):
    body = textwrap.dedent(
        """
        import io, contextlib
        from pathlib import Path
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
        from vessel import backup, home as home_mod
        from vessel.cli import main

        key = Ed25519PrivateKey.generate()
        key.public_key().verify(key.sign(b"entry"), b"entry")
        X25519PrivateKey.generate().exchange(X25519PrivateKey.generate().public_key())
        for aead in (AESGCM(AESGCM.generate_key(256)), ChaCha20Poly1305(ChaCha20Poly1305.generate_key())):
            assert aead.decrypt(b"n" * 12, aead.encrypt(b"n" * 12, b"payload", b"ad"), b"ad") == b"payload"

        work = Path(sys.argv[1])
        home = home_mod.Home(work / "ship")
        home_mod.init(home, demo=True)
        path, _ = backup.backup(home, work)
        backup.restore(path, home_mod.Home(work / "restored"))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["--home", str(work / "restored"), "operator", "list"]) == 0
        assert "coordinador" in out.getvalue()
        print("ok")
        """
    )
    result = run_under_mdwe(body, str(tmp_path))
    skip_if_unsupported(result)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_a_textual_app_draws_under_it():
    body = textwrap.dedent(
        """
        import asyncio
        from textual.app import App
        from textual.widgets import DataTable, Footer, Label

        class Probe(App):
            def compose(self):
                yield Label("S-014 → Consultorio 2")
                yield DataTable()
                yield Footer()

            def on_mount(self):
                table = self.query_one(DataTable)
                table.add_columns("Turno", "Espera")
                table.add_rows([(f"S-{n:03}", f"{n} min") for n in range(50)])

        async def drive():
            app = Probe()
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.press("down", "down")
                await pilot.pause()
                assert "S-014" in app.export_screenshot()
            print("ok")

        asyncio.run(drive())
        """
    )
    result = run_under_mdwe(body)
    skip_if_unsupported(result)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
