"""The desktop app (PySide6 + pyqtgraph).  Everything Qt lives here; the engine and the session
model never import it."""
