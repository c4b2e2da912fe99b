"""Storage: one schema, several engines, and the repositories of the management plane."""
