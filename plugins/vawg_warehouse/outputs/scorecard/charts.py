"""The scorecard's charts, drawn by matplotlib as static SVG and inlined as data: URIs, so the page
needs no network and no script. Each chart is its own figure (no pyplot state), so building the
scorecard is safe in any process."""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from vawg_warehouse.outputs.scorecard.stats import ControlLimits

INK = "#1d2330"
MUTED = "#6b7380"
SERIES = "#1f4e79"
CENTRE = "#5b6472"
LIMIT = "#a4161a"
SIGNAL = "#d35400"
INCOMPLETE = "#9aa3ad"
HOME = "#6a3d9a"
PEER = "#9db4cf"
GROUP = "#1f4e79"
NATIONAL = "#2e7d4f"


@dataclass(frozen=True)
class TrendPoint:
    label: str
    value: float | None  # None: suppressed or no denominator (a gap)
    complete: bool
    outside_limits: bool = False
    highlighted: bool = False  # the latest complete value
    compared: bool = False  # the value it is compared with a year earlier


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(colors=INK, labelsize=8)
    ax.grid(axis="y", color="#e3e7ec", linewidth=0.6)
    ax.set_axisbelow(True)


def _data_uri(fig: Figure, salt: str) -> str:
    buffer = io.StringIO()
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue().encode()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def trend_chart(
    points: Sequence[TrendPoint],
    limits: ControlLimits | None,
    y_label: str,
    value_format,
    salt: str,
) -> str:
    """Line of the series with its centre line and control limits; incomplete periods hollow
    and grey, special causes orange, suppressed periods a gap."""
    fig = Figure(figsize=(10.0, 3.4), dpi=96)
    ax = fig.subplots()
    _style(ax)
    x = list(range(len(points)))
    complete = [p.value if p.complete else None for p in points]
    ax.plot(x, [v if v is not None else float("nan") for v in complete], color=SERIES, lw=1.6)
    for i, p in enumerate(points):
        if p.value is None:
            continue
        if not p.complete:
            ax.plot(i, p.value, "o", ms=6, mfc="white", mec=INCOMPLETE, mew=1.5)
        elif p.outside_limits:
            ax.plot(i, p.value, "o", ms=6, color=SIGNAL)
        else:
            ax.plot(i, p.value, "o", ms=3.5, color=SERIES)
        if p.highlighted:
            ax.plot(i, p.value, "o", ms=11, mfc="none", mec=INK, mew=1.2)
        if p.compared:
            ax.plot(i, p.value, "s", ms=9, mfc="none", mec=MUTED, mew=1.0)
    if limits is not None:
        ax.plot(x, [limits.centre] * len(x), color=CENTRE, lw=1.0)
        for bound in (limits.lower, limits.upper):
            ax.step(
                x,
                [b if b is not None else float("nan") for b in bound],
                where="mid",
                color=LIMIT,
                lw=0.9,
                ls="--",
            )
    step = 1 if len(points) <= 12 else 3 if len(points) <= 24 else 6
    ticks = [i for i in x if (len(points) - 1 - i) % step == 0]  # always label the newest
    ax.set_xticks(ticks, [points[i].label for i in ticks], rotation=0)
    ax.yaxis.set_major_formatter(lambda v, _: value_format(v))
    ax.set_ylabel(y_label, fontsize=8, color=MUTED)
    shown = [p.value for p in points if p.value is not None]
    shown += [b for b in (limits.upper if limits else []) if b is not None]
    ax.set_ylim(0, 1.12 * max(shown) if shown and max(shown) > 0 else 1)
    legend = [
        Line2D([], [], color=SERIES, marker="o", ms=3.5, lw=1.6, label="complete period"),
        Line2D([], [], ls="", marker="o", mfc="white", mec=INCOMPLETE, label="incomplete"),
        Line2D([], [], ls="", marker="o", mfc="none", mec=INK, ms=9, label="latest complete"),
        Line2D([], [], ls="", marker="s", mfc="none", mec=MUTED, ms=8, label="a year earlier"),
    ]
    if limits is not None:
        legend += [
            Line2D([], [], color=CENTRE, lw=1.0, label="centre line"),
            Line2D([], [], color=LIMIT, lw=0.9, ls="--", label="control limits"),
            Line2D([], [], ls="", marker="o", color=SIGNAL, label="outside the limits"),
        ]
    ax.legend(
        handles=legend,
        fontsize=7,
        frameon=False,
        ncol=4,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
    )
    return _data_uri(fig, salt)


@dataclass(frozen=True)
class PeerBar:
    area: str
    level: str  # force, most_similar_group, england_and_wales
    value: float | None
    is_home: bool


def peer_chart(groups: Sequence[tuple[str, Sequence[PeerBar]]], x_label: str, salt: str) -> str:
    """Horizontal bars per category (small multiples): the home force, its most similar forces, the
    group and England and Wales."""
    fig = Figure(figsize=(10.0, 0.9 + 0.3 * max(len(b) for _, b in groups)), dpi=96)
    axes = fig.subplots(1, len(groups), sharey=True, squeeze=False)[0]
    for ax, (title, bars) in zip(axes, groups, strict=True):
        _style(ax)
        ax.grid(axis="x", color="#e3e7ec", linewidth=0.6)
        ax.grid(axis="y", visible=False)
        names = [b.area for b in bars]
        values = [b.value if b.value is not None else 0.0 for b in bars]
        colours = [
            HOME
            if b.is_home
            else GROUP
            if b.level == "most_similar_group"
            else NATIONAL
            if b.level == "england_and_wales"
            else PEER
            for b in bars
        ]
        y = list(range(len(bars)))
        ax.barh(y, values, color=colours, height=0.7)
        for yi, b in zip(y, bars, strict=True):
            text = "n/a" if b.value is None else f"{b.value:.2f}"
            ax.text(values[yi], yi, f" {text}", va="center", fontsize=8, color=INK)
        ax.set_yticks(y, names, fontsize=8.5)
        ax.invert_yaxis()
        ax.set_title(textwrap.fill(title, 40), fontsize=9.5, color=INK, loc="left")
        ax.set_xlabel(x_label, fontsize=8, color=MUTED)
        ax.margins(x=0.18)
    return _data_uri(fig, salt)
