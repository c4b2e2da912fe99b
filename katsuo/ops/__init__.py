"""Operator commands' work: copying between stores, backups, retention."""
