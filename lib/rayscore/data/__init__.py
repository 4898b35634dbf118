"""Training data: rows in, preference pairs or SFT samples out, bad rows set aside with a reason.

- preferences.py    preference pairs for reward models: read the accepted shapes, validate, split
- pairs.py          labelled records -> TRL preference pairs (chosen = the true label 正确/错误)
- hupu.py           the Hupu rating CSV -> SFT samples for a generative score model
- chinese_chars.py  the Chinese characters a tokenizer is given on top of its vocabulary
- data_check.py     the check every training job runs on its rows first: duplicates set aside,
                    train/eval overlap and one-template sets refused, diversity reported
Nothing here imports Ray or a model.
"""
