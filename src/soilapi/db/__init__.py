"""Database layer: declarative models and the async engine/session plumbing."""
