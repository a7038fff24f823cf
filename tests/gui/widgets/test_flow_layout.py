"""FlowLayout: one line with the stretch when there is room, wrapped lines (never overlapping) when narrow."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from denoise_gui.widgets.flow_layout import FlowLayout


def _row(qtbot: Any, texts: list[str]) -> tuple[QWidget, FlowLayout, list[QPushButton]]:
    holder = QWidget()
    qtbot.addWidget(holder)
    outer = QVBoxLayout(holder)
    flow = FlowLayout()
    buttons = [QPushButton(text) for text in texts]
    for button in buttons[:-1]:
        flow.addWidget(button)
    flow.add_stretch()
    flow.addWidget(buttons[-1])
    outer.addLayout(flow)
    outer.addStretch(1)
    holder.show()
    return holder, flow, buttons


def test_one_line_with_room_the_last_pushed_right(qtbot: Any) -> None:
    holder, flow, buttons = _row(qtbot, ["Start", "Pause", "Stop", "Save checkpoint…"])
    holder.resize(flow.sizeHint().width() + 200, 100)
    qtbot.waitUntil(lambda: buttons[-1].geometry().right() > holder.width() - 30, timeout=2000)
    assert len({b.y() for b in buttons}) == 1
    assert buttons[-1].x() - buttons[-2].geometry().right() > 150  # the stretch took the room


def test_wraps_when_narrow_and_needs_only_the_widest_item(qtbot: Any) -> None:
    holder, flow, buttons = _row(qtbot, ["Start", "Pause", "Stop", "Save checkpoint…"])
    widest = max(b.minimumSizeHint().width() for b in buttons)
    assert flow.minimumSize().width() == widest
    assert holder.minimumSizeHint().width() < flow.sizeHint().width()
    holder.resize(widest + 30, 300)
    qtbot.waitUntil(lambda: len({b.y() for b in buttons}) > 1, timeout=2000)
    boxes = [b.geometry() for b in buttons]
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert all(holder.rect().contains(box) for box in boxes)
    assert flow.heightForWidth(widest) > flow.heightForWidth(flow.sizeHint().width())
    buttons[1].hide()
    assert flow.sizeHint().width() < sum(b.sizeHint().width() for b in buttons)
