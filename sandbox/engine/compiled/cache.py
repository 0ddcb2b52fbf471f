"""Where numba keeps compiled kernels: next to the package, or the user's cache folder when the
package folder is read-only (an installed site-packages)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "backprop-sandbox"


def package_cache_writable() -> bool:
    """Whether numba can write its cache next to this package (its ``__pycache__``)."""
    here = Path(__file__).resolve().parent
    pycache = here / "__pycache__"
    target = pycache if pycache.is_dir() else here
    return os.access(target, os.W_OK)


def prepare_cache_dir() -> None:
    """Point NUMBA_CACHE_DIR at the platform cache folder when the package folder is read-only.

    Must run before numba is imported (numba reads its configuration then).  A NUMBA_CACHE_DIR
    the user set is kept.
    """
    if "NUMBA_CACHE_DIR" in os.environ or package_cache_writable():
        return
    import platformdirs

    folder = Path(platformdirs.user_cache_dir(APP_NAME)) / "numba"
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:  # imported already (by another library): read the setting again
        from numba.core import config

        config.reload_config()
