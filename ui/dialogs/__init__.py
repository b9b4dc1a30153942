"""Dialogs and wizards (ui layer): they collect input and return it; the caller runs the service."""
