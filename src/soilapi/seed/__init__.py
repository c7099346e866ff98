"""The seed dataset: hand-written data files, their validator and their loader."""
