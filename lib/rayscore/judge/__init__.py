"""Judging: prompts for LLM judges, reading their scores and verdicts, swap logic, an HTTP client.

    from rayscore.judge.core import JudgeSpec, judge_items, open_backend
    spec = JudgeSpec(mode="pointwise", template="score10_zh", score_range=[1, 10], http=...)
    frame = judge_items(spec, open_backend(spec), [{"question": q, "answer": a}])

    from rayscore.judge.prompts import load_template, render
    from rayscore.eval.judge_text import parse_score, parse_pairwise
    prompt = render(load_template("score10_zh"), question=q, answer=a, reference=None)
    parsed = parse_score(judge_output, valid_range=(1, 10))   # parsed.score is None when unreadable

- prompts.py    plain-text templates with {placeholders} and optional {#reference}...{/reference}
- parsing.py    validator of augmented reading items (parse_score / parse_pairwise live in
                rayscore.eval.judge_text: the evaluate job reads judge text too)
- pairwise.py   the training-data filter (filter_consistent; unswap / combine /
                verdict_from_scores live in rayscore.eval.verdicts: the agreement metrics use them)
- http_client.py  OpenAI-compatible chat completions with bounded concurrency and retries
- local.py      a local causal LM judge: greedy generation through the chat template
- core.py       the judge: JudgeSpec (mode, template, rubric, score range, policy, backend) and the
                plain functions build_prompts / generate / parse_judgements (judge_items runs all
                three); truncated completions, judge_fingerprint. The job, online.py and augment.py
                import it, never each other.
- scorer.py     the judge as a scorer kind (JudgeScorerSpec, JudgeScorer) of rayscore.score.job
- job.py        the judge job (JudgeJobConfig, run, read_judgements): pointwise / pairwise, http /
                local backend, on the chunked exactly-once pipeline
- online.py     the same judging on in-memory items, one request at a time (Serve's /v1/judge)
- augment.py    the augment job (AugmentJobConfig, run): generate, validate, rubric-judge, keep
judge sits above score (it runs on score's pipeline); score never imports judge.
"""
