"""Chinese address records: the digital-twin quality domain.

divisions.py  the administrative table (province -> city -> county -> town), as addresses write it
records.py    realistic records, correct or with exactly one labelled error, deterministic by seed
generate.py   the generate_records job (GenerateJobConfig, run): train / valid / score parquet parts
checks.py     the address check set: deterministic checks whose observations the quality model reads
demo.py       the demo: generate, train with checks, label, report against the rules-only baseline
data/         the vendored division table (with its licence) and a hand-written real-style set
"""
