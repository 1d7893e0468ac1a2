"""Monitoring: drift and performance of a served model from the prediction log, and the
retraining loop that opens one pull request when the model degrades."""
