"""Distillation: a teacher's labels on a sample -> a small student -> the whole corpus scored and
filtered by the student (the distill job).

- config.py     DistillJobConfig: the corpus, and the nested judge, student and scoring configs
- job.py        the distill job (run): sample, teacher (judge job), split, student, score, evaluate, filter
- pointwise.py  grades -> a classifier or regressor (train_classifier); rows at the threshold kept
- pairwise.py   verdicts in both orders -> a reward model (train_reward); pairs it is sure of kept
- outputs.py    reading and filtering the nested jobs' output parts
- teacher.py    a stand-in teacher: an OpenAI-compatible server on loopback with a hidden rubric
- corpus.py     generated corpora: short texts of varied educational value, or pairs of them
"""
