"""Thin table models for the manager's and safeguarding lead's screens (ui layer)."""
