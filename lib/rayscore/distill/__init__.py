"""Distillation: a teacher's pointwise grades on a sample -> a small student -> the whole corpus
scored and filtered by the student (the distill job).

- job.py      the distill job (DistillJobConfig, run): sample, teacher (judge job), split, student
              (train_classifier), score (score_batch), evaluate, filter
- teacher.py  a stand-in teacher: an OpenAI-compatible server on loopback with a hidden rubric
- corpus.py   a generated corpus of short texts of varied educational value (the demo's)
"""
