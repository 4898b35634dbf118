"""Chinese address records: the digital-twin quality domain.

divisions.py  the administrative table (province -> city -> county -> town), as addresses write it
generate.py   realistic records, correct or with one labelled error; the generate_records job
checks.py     deterministic checks whose observations the quality model reads (check_flags)
data/         the vendored division table (with its licence) and a hand-written real-style set
"""
