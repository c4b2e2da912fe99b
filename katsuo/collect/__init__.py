"""The write path: validate a hit, identify its session and visit, enrich it, and store it."""
