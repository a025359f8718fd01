"""Talking to the APIs: one client per host, retries, limits, paging, redaction."""
