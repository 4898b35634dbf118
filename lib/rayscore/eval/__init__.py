"""Evaluation: gold against predicted as metrics.json-ready dicts, text overlap scores, PNG plots.

    from rayscore.eval import metrics, plots, text
    report = {"regression": metrics.regression(real, predicted),
              "text": text.text_scores(predictions, references)}
    plots.plot_error_histogram(errors, "out/error_hist.png")

- metrics.py  regression, classification (also from confusion counts), score distribution
- annotators.py  majority vote, Cohen's and Fleiss' kappa
- pairwise_agreement.py  a pairwise judge against gold: agreement in each order, swap
              consistency, the combined verdict (JudgeLM / PandaLM definitions)
- correlation.py  Pearson, Spearman, Kendall with bootstrap CIs, overall and per group
- length_control.py  the length an instruction asks for against the answer's
- values.py   how the metrics read their inputs (missing values counted, lengths checked)
- verdicts.py pairwise verdicts in both orders: unswap, combine (consistency, final verdict),
              verdict_from_scores -- the definitions the agreement metrics count with
- judge_text.py  a judge's free text -> score (parse_score) / pairwise verdict (parse_pairwise)
- text.py     BLEU-4 and ROUGE-1/2/L with Chinese-aware tokenisation
- calibration.py  temperature scaling, mergeable reliability bins, ECE
- pointwise.py  a pointwise scorer against reference scores: agreement / F1 at a threshold,
              Spearman, errors, confusion, plots (train_classifier's held-out report, distill's)
- plots.py    error / score histograms, confusion matrix, length-control and correlation scatter,
              reliability (Agg, ASCII text)
- job.py      the evaluate job (run): tables in, metrics.json + PNGs out; config.py holds
              EvaluateJobConfig, inputs.py reads and joins the tables
Nothing here imports Ray, and nothing here imports rayscore.judge: judge builds on eval (it
counts and combines verdicts with these functions), never the other way round.
"""
