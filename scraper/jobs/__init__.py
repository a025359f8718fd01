"""What the CLI runs over the stages: crawls, exports, scheduled runs, status."""
