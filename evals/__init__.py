"""Evals: labeled corpora, running a provider over them, scoring and comparing the runs.

A plain package, not a Django app: the corpus generator needs no database, and the runner only
reads document types. ``manage.py evaluate`` and ``manage.py export_corpus`` are its commands.
"""
