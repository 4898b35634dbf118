"""Training curves as a PNG, from the HF trainer's log history (`trainer.state.log_history`).

    path = plot_training_curves(log_history, out / "training_curves.png")
    write_curves(model_dir, out, title="train_reward")   # a job's model dir's log history -> out/

Left panel: training loss (and eval loss when the run evaluated during training) by step.
Right panel: training-batch accuracy and eval accuracy by step, when the log has them (TRL's
RewardTrainer logs both). Drawn on matplotlib's Agg canvas directly: no display, no pyplot state.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

LOG_HISTORY_FILE, CURVES_FILE = "log_history.json", "training_curves.png"

# (log key, label, colour, line style) per panel; entries without the key are skipped.
_LOSS = [("loss", "train loss", "tab:blue", "-"), ("eval_loss", "eval loss", "tab:orange", "--")]
_ACCURACY = [("accuracy", "train batch accuracy", "tab:blue", "-"),
             ("eval_accuracy", "eval accuracy", "tab:orange", "--")]


def curve(log_history: list[dict], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one logged quantity, in step order."""
    points = sorted((int(e["step"]), float(e[key])) for e in log_history if key in e and "step" in e)
    return [s for s, _ in points], [v for _, v in points]


def plot_training_curves(log_history: list[dict], path: str | Path, title: str = "training") -> Path:
    """Write the loss and accuracy curves of one run; returns the PNG's path."""
    fig = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(fig)
    for i, (series, ylabel) in enumerate(((_LOSS, "loss"), (_ACCURACY, "accuracy"))):
        ax = fig.add_subplot(1, 2, i + 1)
        drawn = False
        for key, label, colour, style in series:
            steps, values = curve(log_history, key)
            if steps:
                ax.plot(steps, values, style, color=colour, marker="o" if len(steps) < 30 else None,
                        markersize=3, label=label)
                drawn = True
        if drawn:
            ax.legend()
        else:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
        ax.set(xlabel="step", ylabel=ylabel, title=f"{title}: {ylabel}")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def write_curves(model_dir: Path, out: Path, title: str) -> Path | None:
    """Move the log history a training worker saved in model_dir next to the job's metrics
    (out/log_history.json) and plot it (out/training_curves.png); None when there is none."""
    source = Path(model_dir, LOG_HISTORY_FILE)
    if not source.exists():
        return None
    shutil.move(source, Path(out, LOG_HISTORY_FILE))
    history = json.loads(Path(out, LOG_HISTORY_FILE).read_text(encoding="utf-8"))["log_history"]
    return plot_training_curves(history, Path(out, CURVES_FILE), title=title)
