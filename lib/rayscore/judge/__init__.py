"""Judging: prompts for LLM judges, reading their scores and verdicts, swap logic, an HTTP client.

    from rayscore.judge.prompts import load_template, render
    from rayscore.judge.parsing import parse_score, parse_pairwise
    prompt = render(load_template("score10_zh"), question=q, answer=a, reference=None)
    parsed = parse_score(judge_output, valid_range=(1, 10))   # parsed.score is None when unreadable

- prompts.py    plain-text templates with {placeholders} and optional {#reference}...{/reference}
- parsing.py    validator of augmented reading items; re-exports parse_score / parse_pairwise,
                which live in rayscore.eval.judge_text (the evaluate job reads judge text too)
- pairwise.py   the training-data filter (filter_consistent); re-exports unswap / combine /
                verdict_from_scores from rayscore.eval.verdicts (the agreement metrics use them)
- http_client.py  OpenAI-compatible chat completions with bounded concurrency and retries
- local.py      a local causal LM judge: greedy generation through the chat template (LocalJudge
                is the Ray Data actor-pool callable)
- job.py        the judge job (JudgeJobConfig, run): pointwise / pairwise, http / local backend
- online.py     the same judging on in-memory items, one request at a time (Serve's /v1/judge)
- augment.py    the augment job (AugmentJobConfig, run): generate, validate, rubric-judge, keep
Only job.py touches Ray (the local backend's map_batches, imported when used).
"""
