"""Form definitions (JSON, changeable at run time) and validation of what users submit."""
