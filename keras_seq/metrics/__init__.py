"""Evaluation metrics computed in NumPy on decoded predictions (`forecasting`: point and
interval forecast errors, baselines and backtest folds)."""
