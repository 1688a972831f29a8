"""log-analyzer: what broke, since when, for whom, from the JSON log records."""
