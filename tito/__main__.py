"""`python -m tito`: the same as the `tito` command."""

import sys

from .cli import main

sys.exit(main())
