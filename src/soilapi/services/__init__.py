"""Business rules: validation of what clients may ask, independent of GraphQL."""
