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

    @property
    def demo_sources(self) -> Path:
        return self.data_dir / "demo" / "sources"


def get_settings() -> Settings:
    return Settings()
