"""The docs' runnable blocks run as written: every ```bash runnable``` block (tests/doc_blocks.py).

    PYTHONPATH=lib .venv/bin/python -m pytest tests/integration/test_docs_run.py -q

The convention: a fenced block whose info string holds `runnable` is a tiny, self-sufficient
run (tiny configs, a few seconds to a minute per job on 2 cores, no GPU, no model hub, no server
it does not start itself). Mark a block runnable when all of its lines can run here; cluster
submissions, GPU configs, hub models and blocking servers stay in plain blocks, whose job
commands tests/unit/test_docs.py load-checks (it load-checks the runnable ones too).

How they run: tests/doc_blocks.py (run_page). docs/train.md's blocks run first, as the session
fixture `docs_workdir` (the model every other test shares is the one they train); this test runs
the other pages after it, in the same working directory. The jobs join the session's Ray
(ray_local) through RAY_ADDRESS, which ray.init() honours, so no command starts a Ray of its own.
"""

from doc_blocks import PAGE_ORDER, ROOT, run_page, runnable_pages
from local_cluster import check_scored


def test_the_runnable_blocks_run_as_written(docs_workdir, docs_env):
    from rayscore.io import read_table

    pages = runnable_pages()
    assert pages and pages[0][0] == ROOT / PAGE_ORDER[0], "docs/train.md's runnable blocks come first"
    assert (docs_workdir / "train.log").exists()  # docs/train.md, run by the docs_workdir fixture
    for page, script in pages[1:]:
        run_page(page, script, docs_workdir, docs_env)

    # What train.md and score.md promise: a model, and every record scored or set aside once.
    assert (docs_workdir / "out/tiny/train_reward/model/calibration.json").exists()
    check_scored(docs_workdir / "out/tiny/scored", read_table(docs_workdir / "out/tiny/data/score"))
