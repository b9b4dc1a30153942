"""Lantern core: domain, storage, security and services. Never imports Qt."""

__version__ = "0.1.0"
