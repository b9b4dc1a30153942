"""The guided incident form package (ui layer): pages, people editor, summary and submit prompts."""

from ui.pages.incident_form.form import IncidentFormPage

__all__ = ["IncidentFormPage"]
