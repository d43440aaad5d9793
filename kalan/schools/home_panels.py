"""Sections that apps above schools add to a learner's home page.

The home page belongs to this app, but what a learner was doing (progress) and
what their teacher gave them (lessons) live in apps above it. Those apps call
`register()` when they start; the page asks each panel for its context and
includes its template when the answer is not None.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kalan.accounts.models import User


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    order: int
    context: Callable[[User], dict[str, Any] | None]


@dataclass(frozen=True)
class ShownPanel:
    template: str
    context: dict[str, Any]


_learner_panels: dict[str, Panel] = {}


def register_learner_panel(panel: Panel) -> None:
    _learner_panels[panel.name] = panel


def learner_panels(user: User) -> list[ShownPanel]:
    shown = []
    for panel in sorted(_learner_panels.values(), key=lambda p: (p.order, p.name)):
        context = panel.context(user)
        if context is not None:
            shown.append(ShownPanel(panel.template, context))
    return shown
