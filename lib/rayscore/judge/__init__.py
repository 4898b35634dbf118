"""Judging: prompts for LLM judges, reading their scores and verdicts, swap logic, an HTTP client.

    from rayscore.judge.prompts import load_template, render
    from rayscore.judge.parsing import parse_score, parse_pairwise
    prompt = render(load_template("score10_zh"), question=q, answer=a, reference=None)
    parsed = parse_score(judge_output, valid_range=(1, 10))   # parsed.score is None when unreadable

- prompts.py    plain-text templates with {placeholders} and optional {#reference}...{/reference}
- parsing.py    judge text -> score / pairwise verdict; validator of augmented reading items
- pairwise.py   verdicts in both orders -> consistency and a final verdict; training-data filter
- http_client.py  OpenAI-compatible chat completions with bounded concurrency and retries
Nothing here imports Ray: the Ray Data and Serve wrappers live in score/ and serve/.
"""
