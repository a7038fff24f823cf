"""denoise-gui: the PySide6 + pyqtgraph desktop app in front of the Noise2Noise engine."""

from denoise_gui.pyside_fix import protect_singletons

protect_singletons()  # before any widget paints: see denoise_gui/pyside_fix.py
