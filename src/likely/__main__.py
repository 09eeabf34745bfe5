"""``python -m likely``: the ``likely`` command."""

import sys

from likely.cli import main

if __name__ == "__main__":
    sys.exit(main())
