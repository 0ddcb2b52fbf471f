"""The main window, split by idea: the window and its layout (``window``), the menus
(``menus``), opening, saving and exporting (``files``), the message banner and the divergence
advice (``banner``), and the texts that explain what just happened (``messages``)."""

from .messages import example_title
from .window import MainWindow

__all__ = ["MainWindow", "example_title"]
