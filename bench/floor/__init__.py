"""The raw-SQL floor: the suite's data through asyncpg and json.dumps, no GraphQL."""
