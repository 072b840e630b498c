"""REST API v1 blueprints."""
