"""`htlm-demo`: real WARCs to a trained tiny model and zero-shot results, with a report (see run.py)."""
