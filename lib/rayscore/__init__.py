"""rayscore: train learned scorers on Ray Train, score millions of records with Ray Data,
judge and evaluate them, and serve them with Ray Serve.

- config.py   typed job configs: defaults <- YAML <- key=value, every problem reported at once
- cli.py      the `rayscore` console script; entry.py: how a job's main runs (a mistake exits 2)
- models.py   loading, adapting, saving and fingerprinting models and tokenizers
- checks.py   generic check sets: observations a scorer's model reads, saved with the model
- io.py       tables in, JSON out, local paths made absolute; runtime.py: connecting to Ray;
              logs.py: logging for jobs
- data/       training data: preference pairs, record pairs, SFT samples
- train/      reward and SFT training on Ray Train
- score/      the scorers and the score_batch job
- judge/      LLM judges, the judge and augment jobs
- eval/       metrics, verdicts, calibration, plots, the evaluate job
- serve/      the Ray Serve application
- addresses/  the Chinese address domain: division table, records, checks, the demo
"""

__version__ = "0.1.0"
