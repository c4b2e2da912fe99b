"""Repositories of the management plane: every SQL statement an API handler needs, by entity."""
