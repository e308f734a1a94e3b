"""Utilities for developers of sk_reseq-compatible estimators."""
