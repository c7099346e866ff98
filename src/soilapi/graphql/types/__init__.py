"""GraphQL object types, one module per area of the registry."""
