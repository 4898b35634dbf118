"""The audit loop: pick the scored rows a person should see, export them to label, import the
labels back into an append-only store, and hand them to training as a source of their own.

    score_batch -> audit (step: pick) -> Label Studio / a spreadsheet -> audit (step: import)
                -> train_reward (data.audited_path) -> score_batch

config.py     AuditJobConfig: which step, where, which strategy and budget
pick.py       the strategies (uncertain, disagree, label_issues, random) over scored parts, memory bounded
shapes.py     near-duplicate keys: one row per "shape" of a record
label_issues.py  confident learning on a labelled set with out-of-fold probabilities (cleanlab)
labelstudio.py   Label Studio tasks, labeling config and its JSON export
spreadsheet.py   the same rows as a CSV a person fills in
answers.py    what a labelled file says (Answer, Parsed), whatever its format
importing.py  validation of an import against its batch: every problem named with file and row
store.py      the audited labels: parquet parts, append-only, idempotent
job.py        the two steps as a job (jobs/audit.py)

Training reads the store through rayscore/data/audited.py (records oversampled, a held-back share,
rows that contradict a certain check reported), a data source like any other.
"""
