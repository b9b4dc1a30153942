"""Lantern's command line: a second front end beside ui/, over the same core services. Never Qt, ui or core.db."""
