"""Evaluation figures computed in NumPy from decoded predictions: entity spans and per-class
tables (`spans`, `classification`), forecast errors, baselines and backtest folds
(`forecasting`)."""
