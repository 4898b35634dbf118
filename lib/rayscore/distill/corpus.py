"""A generated corpus of short English texts of varied "educational value" (or of pairs of such
texts answering one instruction), for the distill demos.

    frame = generate_corpus(rows=5000, seed=0)          # id, text, kind
    pairs = generate_pairs(rows=5000, seed=0)           # id, prompt, response_1, response_2, kind
    write_corpus(frame, "out/distill_demo/corpus", rows_per_file=1000)

Each text is built from parts: a topic sentence (a school concept, or an everyday subject),
optionally an explanation ("because ..."), an example ("For example, ..."), a note addressed to
learners, a sales pitch, and filler chatter. Which parts a text has is drawn at random, so the
features the teacher's rubric (teacher.py) grades are independent and its 0-5 grades spread over
the whole range. `kind` names how the text was drawn (for reading results, never for training).
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rayscore.io import filesystem

CONCEPTS = ["photosynthesis", "gravity", "fractions", "the water cycle", "plate tectonics", "electric circuits",
            "the French Revolution", "cell division", "prime numbers", "ocean currents", "volcanoes",
            "the solar system", "chemical bonds", "supply and demand", "the Roman Empire", "magnetism",
            "evaporation", "the human heart", "multiplication tables", "climate zones"]
EVERYDAY = ["my weekend", "the new cafe downtown", "our neighbour's dog", "the traffic today", "a rainy afternoon",
            "my favourite sneakers", "the football match", "a birthday party", "the queue at the bank",
            "last night's show"]
TOPIC_CONCEPT = ["{c} is an important idea in science class.", "Let us look at {c}.",
                 "This page is about {c}.", "{c} shapes the world around us."]
TOPIC_EVERYDAY = ["I want to talk about {e}.", "So, {e}.", "Quick note on {e}.", "Thinking about {e} again."]
EXPLAIN = ["It happens because energy moves from one place to another.",
           "This works because small parts combine into a larger system.",
           "The reason is that forces act on every object, which means it changes over time.",
           "It matters because each step depends on the one before it."]
EXAMPLE = ["For example, you can see it in a glass of water left in the sun.",
           "For example, a simple model on a table shows the same effect.",
           "For instance, try it with two coins and a ruler.",
           "For example, count the pieces when you cut a pizza into eight slices."]
LEARNER = ["Students can practise this with the exercise below.", "In this lesson you will learn it step by step.",
           "Teachers often use this to start a unit.", "Try the quiz at the end to check what you learned."]
PITCH = ["Buy now and get free shipping!", "Limited offer: 50% discount, order today!",
         "Click the link to win a free gift card!", "Subscribe now for exclusive deals!"]
FILLER = ["Anyway, that is what I think.", "Honestly it was fine.", "Lol, whatever.", "See you around.",
          "The weather was nice though.", "Not much else to say."]


def generate_corpus(rows: int, seed: int = 0) -> pd.DataFrame:
    """`rows` texts with ids doc-0000000..., deterministic in seed."""
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        text, kind = draw_text(rng, concept=rng.random() < 0.55)
        out.append({"id": f"doc-{i:07d}", "text": text, "kind": kind})
    return pd.DataFrame(out)


def generate_pairs(rows: int, seed: int = 0) -> pd.DataFrame:
    """`rows` pairs of responses to one instruction (id pair-0000000..., prompt, response_1,
    response_2, kind), deterministic in seed. Both responses are drawn for the prompt's subject;
    a response to a school concept drifts to an everyday subject a quarter of the time."""
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        concept = rng.random() < 0.55
        subject = rng.choice(CONCEPTS if concept else EVERYDAY)
        drawn = [draw_text(rng, concept=False) if concept and rng.random() < 0.25
                 else draw_text(rng, concept, subject) for _ in range(2)]
        out.append({"id": f"pair-{i:07d}", "prompt": f"Write a few sentences about {subject}.",
                    "response_1": drawn[0][0], "response_2": drawn[1][0],
                    "kind": f"{drawn[0][1]} | {drawn[1][1]}"})
    return pd.DataFrame(out)


def draw_text(rng: random.Random, concept: bool, subject: str | None = None) -> tuple[str, str]:
    """(text, kind): a topic sentence on `subject` (else one drawn from the concepts or the
    everyday subjects), then each part with its own probability, in any order."""
    template = rng.choice(TOPIC_CONCEPT if concept else TOPIC_EVERYDAY)
    subject = subject or rng.choice(CONCEPTS if concept else EVERYDAY)
    parts = [template.format(c=subject, e=subject)]
    has = {name: rng.random() < p for name, p in
           (("explain", 0.5), ("example", 0.45), ("learner", 0.4), ("pitch", 0.25), ("filler", 0.5))}
    for name, options in (("explain", EXPLAIN), ("example", EXAMPLE), ("learner", LEARNER),
                          ("pitch", PITCH), ("filler", FILLER)):
        if has[name]:
            parts.append(rng.choice(options))
    body = parts[:1] + rng.sample(parts[1:], len(parts) - 1)  # the topic first, the rest in any order
    kind = ("concept" if concept else "everyday") + "".join(f"+{n}" for n, v in has.items() if v)
    return " ".join(p[0].upper() + p[1:] for p in body), kind


def write_corpus(frame: pd.DataFrame, out_dir: str | Path, rows_per_file: int = 1000) -> str | Path:
    """The corpus as part-*.parquet files of rows_per_file rows (row groups of at most 500), in a
    local directory or under a URI."""
    fs, root = filesystem(str(out_dir))
    fs.create_dir(root, recursive=True)
    for n, start in enumerate(range(0, len(frame), rows_per_file)):
        table = pa.Table.from_pandas(frame.iloc[start:start + rows_per_file], preserve_index=False)
        pq.write_table(table, f"{root}/part-{n:05d}.parquet", row_group_size=500, filesystem=fs)
    return out_dir
