"""Katsuo: self-hosted, privacy-focused web analytics, a drop-in replacement for Umami v3."""

__version__ = "0.1.0"
