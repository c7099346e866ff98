"""The GraphQL surface: types, loaders, pagination and the schema."""
