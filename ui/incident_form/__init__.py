"""The guided incident form package (ui layer): pages, people editor, summary and submit prompts."""

from ui.incident_form.form import IncidentFormPage

__all__ = ["IncidentFormPage"]
