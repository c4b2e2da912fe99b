"""The read path: every analytics request becomes one Query, answered by one builder and runner."""
