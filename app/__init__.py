"""app: what the entry points (cli.py, ui.py) share above the answer pipeline - batch files,
feedback, the document library and the HTML/plain-text rendering of answers.

Imports `bot` and `ingest`; never imported by them.
"""
