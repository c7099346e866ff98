"""The root Mutation: writes by partners and curators (soilapi.services.writes runs them)."""

from soilapi.graphql.mutations.records import Mutation

__all__ = ["Mutation"]
