"""``python -m likely``: the ``likely`` command."""

import sys

from likely.cli import main

sys.exit(main())
