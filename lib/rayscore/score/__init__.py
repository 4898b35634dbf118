"""Scoring: the scorers, their one forward path, and the exactly-once score_batch job.

    scorer = build_scorer(ScorerSpec(kind="quality", model_dir="out/model"))   # scorers.py
    scored = scorer.score(frame)

- scorers.py     one class per kind (quality, reward, pair, generative): a model plus how its
                 inputs are formatted and its outputs read; the same objects run behind Serve
- contract.py    what score_batch's worker may ask of any scorer, with the defaults it gets
- thresholds.py  the quality threshold chosen on labelled rows (ThresholdSpec, choose_threshold)
- runner.py      batched reward-model inference: length-sorted dynamic padding, precision
- generative.py  a causal LM's score read from its digit-token probabilities and greedy answer
- validate.py    row checks before the model; each bad row gets a quarantine reason

The score_batch job, one concept a module; each imports only modules listed below it:

- job.py         run(ScoreJobConfig): plan, skip what is committed, stream the pending chunks
- worker.py      ChunkWorker, the actor: read, validate, score and commit whole chunks
- report.py      each chunk's counts, the summary.json over them, metrics and plots
- store.py       ChunkStore, the output directory: atomic, fingerprinted parts and markers;
                 its read side (part_files, iter_parts, rewrite_parts) for other packages
- inputs.py      input listing, identity and planning from footers and counts; reading a span
- config.py      ScoreJobConfig, and how the output names the input's columns
- chunk.py       a chunk (the unit of work, output and resume): its spans, name and key
"""
