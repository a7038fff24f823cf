"""The program each process of ``denoise-train --nproc N`` runs (``python -m nnkit.denoise.cli.train_rank``)."""

from __future__ import annotations

import sys

from nnkit.denoise.cli.train import train_main

if __name__ == "__main__":
    sys.exit(train_main())
