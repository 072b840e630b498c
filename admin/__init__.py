"""The designer and administrator console (built on the engine and CRM services)."""
