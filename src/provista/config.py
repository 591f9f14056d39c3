"""Settings, read from the environment (``PROVISTA_*``) or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROVISTA_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")  # where `provista demo` keeps its province and warehouse
    demo_scale: str = "small"
    demo_seed: int = 20201101
    jobs: int = 2  # worker processes for generation
    pseudonym_key_file: Path | None = None  # default: <data_dir>/secrets/pseudonym.key, outside the warehouse
    warehouse: Path | None = None  # default: <data_dir>/warehouse/provista.duckdb
    mappings_dir: Path | None = None  # extra source-format YAML files
    app_db: str | None = None  # SQLAlchemy URL of the app state (users, sessions); default SQLite in data_dir
    session_hours: float = 8.0  # a login expires this long after it was made
    api_cache_seconds: float = 600.0  # how long a dashboard answer is kept for its role and scope (0: off)
    detection_config: Path | None = None  # outbreak detection in the build (default: the shipped YAML)

    @property
    def demo_sources(self) -> Path:
        return self.data_dir / "demo" / "sources"

    @property
    def key_file(self) -> Path:
        return self.pseudonym_key_file or self.data_dir / "secrets" / "pseudonym.key"

    @property
    def app_db_url(self) -> str:
        return self.app_db or f"sqlite:///{self.data_dir / 'app' / 'provista.sqlite'}"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse or self.data_dir / "warehouse" / "provista.duckdb"


def get_settings() -> Settings:
    return Settings()
