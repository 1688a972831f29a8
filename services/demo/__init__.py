"""`make demo`: the whole system for a minute, offline, with an incident to find in the logs."""
