"""The docs' runnable blocks run as written: every ```bash runnable``` block (tests/doc_blocks.py).

    PYTHONPATH=lib .venv/bin/python -m pytest tests/integration/test_docs_run.py -q

The convention: a fenced block whose info string holds `runnable` is a tiny, self-sufficient
run (tiny configs, a few seconds to a minute per job on 2 cores, no GPU, no model hub, no server
it does not start itself). Mark a block runnable when all of its lines can run here; cluster
submissions, GPU configs, hub models and blocking servers stay in plain blocks, whose job
commands tests/unit/test_docs.py load-checks (it load-checks the runnable ones too).

How they run: one temporary working directory for all pages, holding links to the repository's
configs/, jobs/ and cluster/ (what the commands read by relative paths), so a command runs exactly
as written, from what looks like the repository's root, and what it writes (out/...) lands in the
temporary directory. Pages run in PAGE_ORDER, the pipeline's order, and then any other page with
a runnable block: a page may use what an earlier page wrote (score.md scores the model that
train.md trains). A page's runnable blocks run in order in one `bash -e`, with this venv's
`python` first on PATH. The jobs join the session's Ray (ray_local) through RAY_ADDRESS, which
ray.init() honours, so no command starts a Ray of its own.
"""

import os
import subprocess
import sys
from pathlib import Path

from doc_blocks import DOCS, ROOT, fenced_blocks
from local_cluster import check_scored

PAGE_ORDER = ["docs/train.md", "docs/score.md", "docs/judge.md", "docs/evaluate.md", "docs/serve.md"]
LINKED = ["configs", "jobs", "cluster"]
PAGE_TIMEOUT_S = 900


def runnable_pages() -> list[tuple[Path, str]]:
    """(page, the shell text of its runnable blocks) in the order they run."""
    order = {name: i for i, name in enumerate(PAGE_ORDER)}
    pages = sorted((p for p in DOCS if p.exists()),
                   key=lambda p: order.get(str(p.relative_to(ROOT)), len(order)))
    found = []
    for page in pages:
        blocks = [b for b in fenced_blocks(page) if b.runnable]
        if blocks:
            found.append((page, "\n".join(line for b in blocks for line in b.lines)))
    return found


def test_the_runnable_blocks_run_as_written(ray_local, tmp_path):
    from rayscore.io import read_table

    pages = runnable_pages()
    assert pages, "no ```bash runnable``` block in the docs"
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    env = dict(os.environ, RAY_ADDRESS=ray_local.get_runtime_context().gcs_address,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for page, script in pages:
        where = page.relative_to(ROOT)
        log = tmp_path / f"{page.stem}.log"
        # Each command echoed after the seconds the page has run so far: the log says which one
        # failed and what each took (bash run as root ignores a PS4 from the environment).
        shell = f"PS4='+ [${{SECONDS}}s] '; set -x\n{script}"
        with open(log, "wb") as out:
            done = subprocess.run(["bash", "-e", "-c", shell], cwd=tmp_path, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=PAGE_TIMEOUT_S)
        assert done.returncode == 0, f"{where}: a runnable block failed:\n{log.read_text(errors='replace')[-4000:]}"

    # What train.md and score.md promise: a model, and every record scored or set aside once.
    assert (tmp_path / "out/tiny/train_reward/model/calibration.json").exists()
    check_scored(tmp_path / "out/tiny/scored", read_table(tmp_path / "out/tiny/data/score"))
