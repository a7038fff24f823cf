"""denoise-experiments --quick: four markdown tables, the report column, written to --out."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nnkit.denoise.experiments import REPORT_NUMBERS, RunResult, _max_rel_diff, main


@pytest.mark.slow
def test_quick_mode_writes_four_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tables.md"
    assert main(["--quick", "--device", "cpu", "--out", str(out)]) == 0
    text = out.read_text()
    assert text in capsys.readouterr().out
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert [h.split()[1] for h in headings] == ["1.", "2.", "3.", "4."]
    for words in ("Initialisation", "SGD", "torch.nn", "Noise2Clean"):
        assert words in text
    for row in ("| constant_1 |", "| constant_1e-3 |", "| he |", "| Adam | 100 | 0.0001 |", "| nnkit |"):
        assert row in text
    table_rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| init")]
    assert len(table_rows) >= 3 + 12 + 2 + 2
    assert "—" in text  # the report's numbers are unknown: shown as a dash, never invented
    # tiny runs stay below their noisy input: no verdict on which training is better
    verdicts = [line for line in text.splitlines() if line.startswith(("Report:", "N2C"))]
    assert len(verdicts) == 4
    for line in (verdicts[0], verdicts[1], verdicts[3]):  # init, optim, target
        assert "cannot tell (no run beats the noisy input" in line and "reproduced" not in line, line


def test_report_numbers_are_not_invented() -> None:
    assert all(value is None or isinstance(value, float) for value in REPORT_NUMBERS.values())
    assert len(REPORT_NUMBERS) == 3 + 12 + 2 + 2


def test_loss_drift_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert _max_rel_diff([1.0, 2.0], [1.0, 2.0 * (1 + 1e-7)]) == pytest.approx(1e-7, rel=1e-3)
    assert math.isnan(_max_rel_diff([1.0], []))  # a run without steps (it failed): no number
    assert main(["--tables", "init,nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["--device", "tpu", "--quick"]) == 2
    assert main(["--bogus"]) == 2
    assert math.isnan(RunResult(config=None).val_psnr)  # type: ignore[arg-type]


def test_a_verdict_needs_runs_that_beat_their_noisy_input() -> None:
    """Before: --quick printed "reproduced" from runs whose PSNR was below the noisy input."""
    from nnkit.denoise.experiments import _ordering

    def result(psnr: float) -> RunResult:
        return RunResult(config=None, reason="done", val_psnr=psnr, noisy_psnr=20.3)  # type: ignore[arg-type]

    assert _ordering(True, [result(14.0), result(12.0)]).startswith("cannot tell (no run beats the noisy input's 20.30")
    assert _ordering(False, [result(14.0)]).startswith("cannot tell")
    assert _ordering(True, [result(23.0), result(12.0)]) == "reproduced"
    assert _ordering(False, [result(23.0)]) == "NOT reproduced"
    assert _ordering(None, [result(23.0)]) == "cannot tell (a run failed)"
