"""Scoring: the scorers, their one forward path, and the exactly-once score_batch job.

    scorer = build_scorer(ScorerSpec(kind="quality", model_dir="out/model"))   # scorers.py
    scored = scorer.score(frame)

- scorers.py     one class per kind (quality, reward, pair, generative): a model plus how its
                 inputs are formatted and its outputs read; the same objects run behind Serve
- runner.py      batched reward-model inference: length-sorted dynamic padding, precision
- generative.py  a causal LM's score read from its digit-token probabilities and greedy answer
- validate.py    row checks before the model; each bad row gets a quarantine reason
- chunks.py      input planning from parquet footers and atomic, fingerprinted output parts
- pipeline.py    the score_batch job (ScoreJobConfig, run) on a Ray Data actor pool
"""
