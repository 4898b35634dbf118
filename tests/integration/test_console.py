"""What train_reward prints, driver and workers: its own lines, progress with a rate and an ETA, a
final summary, and no library noise. The console is docs/train.md's run by the session fixture
docs_workdir (a job process connected to the session's Ray, as under `ray job submit`), so no
extra training runs here.
score_batch's console is checked where it runs as a submitted job (test_job_submit.py)."""

import re

from console import PROGRESS_LINE, console_problems


def test_train_reward_console_is_progress_and_a_summary_without_noise(docs_workdir):
    page = (docs_workdir / "train.log").read_text(encoding="utf-8")
    console = page.split("python -m jobs.train_reward", 1)[1].split("\n", 1)[1]  # after bash's trace of the command
    assert console_problems(console) == [], console[-4000:]
    progress = [line for line in console.splitlines() if " train " in line and PROGRESS_LINE.search(line)]
    assert progress, console[-4000:]
    # The tiny config runs 6 steps of 8 pairs on each of 2 workers: 16 pairs a step.
    assert re.search(r"train 6/6 steps, [\d.]+ steps/s, ETA 0 s; [\d.]+ pairs/s, loss [\d.]+", progress[-1])
    assert re.search(r"train 6 steps in \d+ (s|min \d\d s) \([\d.]+ steps/s\); [\d.]+ pairs/s", console)
    assert "Ray cluster at" in console  # ensure_ray's one line about where the job runs
    assert re.search(r"model: \S+/model  eval accuracy: [\d.]+", console)  # the job's final line
