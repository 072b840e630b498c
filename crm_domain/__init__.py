"""The CRM's data and plain-function services. Never imports Flask or engine/."""
