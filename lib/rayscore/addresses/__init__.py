"""Chinese address records: the digital-twin quality domain.

divisions.py     the administrative table (province -> city -> county -> town), as addresses write it
targets.py       the table prepared for drawing: one Target per addressable county, weighted (load_tables)
draws.py         a row's random draws (pick, pick_cumulative, draw_digits), all from one seeded callable
names.py         person names as records write them (make_name)
record_parts.py  Record: one record as parts before it is written out, and how it is written
corruptions.py   the error kinds (ERROR_TYPES): one function each, editing a correct record (CORRUPTIONS)
field_corruptions.py, admin_corruptions.py, detail_corruptions.py
                 those functions, by the part of a record they corrupt
records.py       correct records in every real shape, and the record stream (generate_records, write_records)
generate.py      the generate_records job: train, score and valid splits as parquet
fields.py        a record's fields as written (name, address, postcode, phone) and what a phone holds
admin_index.py   the division names an address can write, indexed once per process (Aho-Corasick)
admin_chain.py   the chain of division names an address starts with, each name's place resolved
admin_repairs.py a chain read again with junk removed, a near miss or a cut name read as the name meant
admin_names.py   reading the administrative names an address starts with, as a chain (read_admin)
detail.py        the detail part after the names: house numbers, junk symbols, a phone or name pasted in
detail_places.py places named in the detail where none should be (a conflicting name, another place)
detail_repeats.py  a part of the detail written twice in a row
checks.py        deterministic checks whose observations the quality model reads (ADDRESS_CHECKS, inspect)
demo.py          the demo: generate, train with checks, label, report against the rules-only baseline
data/            the vendored division table (with its licence) and a hand-written real-style set
"""
