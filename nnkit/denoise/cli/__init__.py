"""Console scripts, one a file: ``denoise-train`` (train.py) and ``denoise`` (denoise.py).

Both functions take ``argv`` (``sys.argv[1:]`` when None) and return the exit status:
0 done; 1 the work failed, the run diverged, or nothing could be done; 2 bad arguments or
settings; 130 interrupted with Ctrl-C (the run is saved first). Errors are printed as one
message naming the file, flag or field at fault, never as a traceback.

``denoise-train`` builds its flags from ``RunConfig``'s fields, so every setting of a run
is a flag (``--batch-size 32``, ``--augment/--no-augment``) with the field's help and choices.
It writes into ``--out`` (default ``runs/<date>-<time>``):

* ``checkpoint.safetensors``: the last weights and optimiser state (resume with ``--resume``);
* ``checkpoint.best.safetensors``: the weights with the best validation PSNR;
* ``metrics.jsonl``: one JSON object per event, ``{"event": "step", ...}`` or ``{"event": "epoch", ...}``;
* ``config.json``: the RunConfig.

``denoise`` writes ``<stem>_denoised.png`` files into ``-o`` (default ``./denoised``). It
never writes over an input file; an existing output is left alone (and reported) unless
``--overwrite``; two inputs with the same stem get ``<stem>_denoised-1.png`` etc.
"""

from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from nnkit.denoise.cli.denoise import denoise_main
from nnkit.denoise.cli.train import BEST_NAME, CHECKPOINT_NAME, CONFIG_NAME, METRICS_NAME, train_main

__all__ = [
    "BEST_NAME",
    "CHECKPOINT_NAME",
    "CONFIG_NAME",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "METRICS_NAME",
    "denoise_main",
    "train_main",
]
