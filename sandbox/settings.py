"""The names under which the app keeps its settings (Qt-free).

The ``QSettings`` factory itself lives in :mod:`sandbox._qt.app_settings`: only the Qt layer
reads or writes settings.
"""

from __future__ import annotations

#: Organisation and application names (QCoreApplication, and where QSettings stores its file).
ORGANIZATION = "BackpropSandbox"
APPLICATION = "Backprop Sandbox"
#: The application part of the settings' location: ``BackpropSandbox/backprop-sandbox``.
SETTINGS_APPLICATION = "backprop-sandbox"
