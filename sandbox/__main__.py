"""``python -m sandbox`` does exactly what the ``backprop-sandbox`` command does."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
