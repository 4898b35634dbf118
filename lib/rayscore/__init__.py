"""rayscore: train learned scorers on Ray Train, score millions of records with Ray Data,
judge and evaluate them, and serve them with Ray Serve."""

__version__ = "0.1.0"
