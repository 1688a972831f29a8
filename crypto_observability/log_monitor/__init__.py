"""log-monitor: follow the logs, evaluate rules, alert without spam."""
