"""Allow `python -m werkplek`."""

import sys

from werkplek.cli import main

sys.exit(main())
