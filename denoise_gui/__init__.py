"""denoise-gui: the PySide6 + pyqtgraph desktop app in front of the Noise2Noise engine."""
