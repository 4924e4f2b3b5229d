"""Takes one backup of HOME into TARGET: the process that a crash test kills mid-way.

Run as a script: backup_crash_worker.py HOME TARGET. Prints the folder it wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vessel import backup
from vessel.home import Home

if __name__ == "__main__":
    path, _manifest = backup.backup(Home(Path(sys.argv[1])), Path(sys.argv[2]))
    print(path, flush=True)
