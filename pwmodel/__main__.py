"""`python -m pwmodel ...` runs the command line (same as the `pwmodel` script)."""

import sys

from pwmodel.cli import main

sys.exit(main())
