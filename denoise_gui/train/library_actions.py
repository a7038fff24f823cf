"""The Train view's runs library: past runs loaded into the table and curves, their metrics read and
written, and the table's actions on a run (copy settings, export, reveal, delete, denoise with it).

A mixin of TrainView (view.py); the files themselves are RunLibrary's (run_library.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import SignalInstance

from denoise_gui.train.curves import CurvesPanel
from denoise_gui.train.run_form import RunForm
from denoise_gui.train.run_library import RunLibrary
from denoise_gui.train.run_table import RunTable
from denoise_gui.train.runs import RunRecord
from denoise_gui.widgets.dialogs import Dialogs


class LibraryMixin:
    """The runs the view knows (``runs``), kept in step with the library on disk."""

    library: RunLibrary
    runs: dict[int, RunRecord]
    _next_id: int
    dialogs: Dialogs
    form: RunForm
    curves: CurvesPanel
    table: RunTable

    if TYPE_CHECKING:  # provided by TrainView and its other parts
        sigDenoiseWith: SignalInstance

        def show_message(self, text: str, kind: str = "info") -> None: ...
        def is_running(self) -> bool: ...
        def _update_buttons(self) -> None: ...
        def train_from_path(self, path: str | Path) -> bool: ...

    def _load_library(self) -> None:
        """Past runs into the table; the curves of those shown (not hidden) drawn."""
        for run in self.library.list_runs():
            run.run_id = self._next_id
            self._next_id += 1
            run.metrics_loaded = False
            self.runs[run.run_id] = run
            if run.visible:
                self._load_metrics(run)
            self.table.update_run(run)
        if self.library.problems:
            self.show_message("Some run folders could not be read: " + "; ".join(self.library.problems), "error")

    def _load_metrics(self, run: RunRecord) -> None:
        try:
            self.library.load_metrics(run)
        except OSError as exc:
            self.show_message(f"Could not read the metrics of {run.label}: {exc}", "error")
            return
        self.curves.update_run(run)
        self.curves.set_run_visible(run, run.visible)

    def _store(self, run: RunRecord) -> None:
        """Rewrite the run's run.json (atomically, on the library's writer thread); failures are said later."""
        if run.folder:
            self.library.save_soon(run)

    def flush_library(self) -> bool:
        """Wait for the runs library's writes; False (and why) if one failed."""
        errors = self.library.flush()
        if errors:
            self.show_message("Could not update the runs library: " + "; ".join(errors), "error")
        return not errors

    def _append_metrics(self, run: RunRecord, records: list[dict[str, Any]]) -> None:
        if not run.folder:
            return
        try:
            self.library.append_metrics(run, records)
        except OSError as exc:
            self.show_message(f"Could not write the metrics of {run.label}: {exc}", "error")

    def run_action(self, name: str, run_id: int) -> bool:
        """One of the run table's actions on a run (see runs_panel.RUN_ACTIONS); False if it did nothing."""
        run = self.runs.get(run_id)
        if run is None:
            return False
        if name == "denoise":
            if not run.checkpoint:
                self.show_message(f"{run.label} has no checkpoint", "error")
                return False
            self.sigDenoiseWith.emit(run.checkpoint)
            return True
        if name == "train_from":
            return self.train_from_path(run.checkpoint or "")
        if name == "copy_settings":
            if self.is_running():
                return False
            self.form.set_config(run.config)
            self.show_message(f"{run.label}'s settings copied to the form")
            return True
        if name == "export_csv":
            return self.export_csv(run) is not None
        if name == "reveal":
            return bool(run.folder) and self.dialogs.reveal(Path(run.folder))
        if name == "delete":
            return self.delete_run(run)
        raise ValueError(f"unknown run action {name!r}")

    def export_csv(self, run: RunRecord, path: str | Path | None = None) -> Path | None:
        """Write the run's metrics as CSV (asks where when ``path`` is None)."""
        if path is None:
            default = str(Path.home() / f"{run.label.replace(' ', '-')}-metrics.csv")
            path = self.dialogs.save_path(f"Export {run.label}'s metrics", default, "CSV (*.csv)")
            if not path:
                return None
        try:
            written = self.library.export_csv(run, Path(path))
        except OSError as exc:
            self.show_message(f"Could not export {run.label}'s metrics to {path}: {exc}", "error")
            return None
        self.show_message(f"{run.label}'s metrics written to {written}", "ok")
        return written

    def export_plots(self, path: str | Path | None = None) -> Path | None:
        """Save the plots as shown, PNG or SVG by the name's suffix (asks where when ``path`` is None)."""
        if path is None:
            default = str(Path.home() / "training-curves.png")
            path = self.dialogs.save_path("Export plots", default, "PNG image (*.png);;SVG drawing (*.svg)")
            if not path:
                return None
        try:
            written = self.curves.export_image(path)
        except OSError as exc:
            self.show_message(f"Could not export the plots: {exc}", "error")
            return None
        self.show_message(f"Plots written to {written}", "ok")
        return written

    def delete_run(self, run: RunRecord) -> bool:
        """Delete a finished run's folder after the user confirmed; False if kept."""
        if run.running:
            self.show_message(f"{run.label} is still running: stop it first", "error")
            return False
        where = f"\n\n{run.folder}" if run.folder else ""
        if not self.dialogs.confirm("Delete run", f"Delete {run.label} with its checkpoints and metrics?{where}"):
            return False
        self.flush_library()  # no write of its run.json still on the way
        try:
            if run.folder:
                self.library.delete(run)
        except (OSError, ValueError) as exc:
            self.show_message(f"Could not delete {run.label}: {exc}", "error")
            return False
        del self.runs[run.run_id]
        self.table.remove_run(run.run_id)
        self.curves.remove_run(run)
        self.show_message(f"{run.label} deleted")
        self._update_buttons()
        return True

    # -- runs --------------------------------------------------------------------------------
    def selected_run(self) -> RunRecord | None:
        """The run selected in the table, if any."""
        return self.runs.get(self.table.selected_run_id())

    def last_run_with_checkpoint(self) -> RunRecord | None:
        """The most recent run that wrote a checkpoint."""
        for run_id in sorted(self.runs, reverse=True):
            if self.runs[run_id].checkpoint:
                return self.runs[run_id]
        return None

    def _visibility_changed(self, run_id: int, visible: bool) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            run.visible = visible
            if visible and not run.metrics_loaded:
                self._load_metrics(run)
            self.curves.set_run_visible(run, visible)
            if not run.running:
                self._store(run)
