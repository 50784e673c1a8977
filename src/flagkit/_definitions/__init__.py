"""Flag definitions: the native document model, parsing and validation."""
