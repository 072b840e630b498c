"""Settings read from the environment, once per process."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _var_dir() -> Path:
    path = Path(os.environ.get("WEFT_VAR_DIR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(var_dir: Path) -> str:
    """WEFT_SECRET_KEY, or one generated into var/ on first run so tokens survive restarts."""
    if key := os.environ.get("WEFT_SECRET_KEY"):
        return key
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    var_dir: Path
    processes_dir: Path = PROJECT_ROOT / "processes"
    token_ttl_seconds: int = 12 * 3600
    upload_max_bytes: int = 5 * 1024 * 1024
    script_timeout_seconds: float = 1.0
    smtp_url: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        var_dir = _var_dir()
        values = {
            "database_url": os.environ.get(
                "WEFT_DATABASE_URL", f"sqlite:///{var_dir / 'weft.sqlite3'}"
            ),
            "secret_key": _secret_key(var_dir),
            "var_dir": var_dir,
            "smtp_url": os.environ.get("WEFT_SMTP_URL"),
        }
        values.update(overrides)
        return cls(**values)
