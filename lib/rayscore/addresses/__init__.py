"""Chinese address records: the digital-twin quality domain.

divisions.py  the administrative table (province -> city -> county -> town), as addresses write it
generate.py   realistic records, correct or with one labelled error; the generate_records job
checks.py     deterministic checks whose observations the quality model reads (check_flags)
fields.py     a record's fields as written (name, address, postcode, phone) and what a phone holds
admin_names.py  the administrative names an address starts with, read as a chain (read_admin)
admin_index.py  the division names an address can write, indexed once per process (Aho-Corasick)
data/         the vendored division table (with its licence) and a hand-written real-style set
"""
