"""Authentication (passwords, tokens, login state, API keys) and the permission policy."""
