"""Flask blueprints: the REST API v1, the staff UI, auth, and the `weft` CLI."""
