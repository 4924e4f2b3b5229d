"""`python -m vessel.cli` runs the `pias` command."""

import sys

from vessel.cli import main

sys.exit(main())
