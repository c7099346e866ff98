"""The HTTP surface around the GraphQL schema: endpoint, limits, logs, health and metrics."""
