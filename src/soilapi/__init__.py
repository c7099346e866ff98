"""soilapi: the GraphQL API for the global soil-governance network."""
