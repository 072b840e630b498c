"""SpiffWorkflow integration: the only package that imports SpiffWorkflow."""
