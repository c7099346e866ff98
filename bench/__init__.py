"""soilapi's benchmark harness: the raw-SQL floor, soilapi and PostGraphile on the same data."""
