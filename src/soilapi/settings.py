"""All runtime settings in one typed class, read from the environment (prefix-free names)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """soilapi's configuration; every field can be set by an environment variable."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql+asyncpg://...). Unset: `make run` starts a "
        "private server under the project folder.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds to.")
    port: int = Field(default=8000, description="Port the HTTP server listens on.")
    db_pool_size: int = Field(default=10, description="Connections kept open per process.")
    max_page_size: int = Field(default=100, description="Largest `first`/`last` a list accepts.")
    statement_timeout_ms: int = Field(
        default=5000, description="PostgreSQL statement_timeout for API queries, in ms."
    )
    log_sql: bool = Field(default=False, description="Echo every SQL statement (debugging).")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()


def normalise_url(url: str) -> str:
    """Accept plain postgres:// URLs and point them at the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url
