"""Test-wide settings: headless Qt, float64 default off, a no-deadline hypothesis profile for CI."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch
from hypothesis import HealthCheck, settings

# Tests use tiny tensors and run in parallel (pytest -n 2): one intra-op thread each. On a loaded
# 2-core machine, torch's default thread pool made tiny ops ~100x slower (threads waiting on each other).
torch.set_num_threads(int(os.environ.get("NNKIT_TEST_THREADS", "1")))

settings.register_profile(
    "ci", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
