"""How a W&B run is set up: mode (with the offline fallback), run id, names from env or config.

Precedence for every setting: a value set explicitly in the ``logger.wandb`` config node, then
the usual ``WANDB_*`` environment variable, then clothret's default. Nothing here touches the
network: whether an API key exists is checked in the places wandb reads one from (the
``WANDB_API_KEY`` / ``WANDB_IDENTITY_TOKEN_FILE`` variables, the netrc file, wandb's settings
file). wandb's own lookup lives in private modules that change between versions, hence this
small copy of the rules.
"""

from __future__ import annotations

import configparser
import logging
import netrc
import os
import secrets
import string
from pathlib import Path
from urllib.parse import urlsplit

from pytorch_lightning.utilities.rank_zero import rank_zero_only

from clothret.errors import ConfigError

log = logging.getLogger(__name__)

MODES = ("online", "offline", "disabled")
DEFAULT_BASE_URL = "https://api.wandb.ai"
RUN_ID_FILE = "wandb_run_id.txt"
_TRUE = ("1", "true", "yes", "on")


def has_api_key() -> bool:
    """Whether W&B credentials are configured (environment, netrc or settings file)."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    base_url = os.environ.get("WANDB_BASE_URL", DEFAULT_BASE_URL)
    host = urlsplit(base_url).netloc or base_url
    for path in _netrc_paths():
        try:
            if path.is_file() and (netrc.netrc(path).authenticators(host) or (None,) * 3)[2]:
                return True
        except (netrc.NetrcParseError, OSError):
            continue
    config_dir = Path(os.environ.get("WANDB_CONFIG_DIR", "~/.config/wandb")).expanduser()
    parser = configparser.ConfigParser()
    try:
        parser.read(config_dir / "settings")
    except configparser.Error:
        return False
    return bool(parser.get("default", "api_key", fallback=""))


def _netrc_paths() -> list[Path]:
    if os.environ.get("NETRC"):
        return [Path(os.environ["NETRC"]).expanduser()]
    return [Path("~/.netrc").expanduser(), Path("~/_netrc").expanduser()]


def env_mode() -> str | None:
    """The mode the environment asks for (``WANDB_MODE``, ``WANDB_DISABLED``), or None."""
    if os.environ.get("WANDB_DISABLED", "").lower() in _TRUE:
        return "disabled"
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    return {"dryrun": "offline", "run": "online"}.get(mode, mode) or None


def resolve_mode(mode: str | None) -> str:
    """``mode`` (config) or the environment's, else online; online without an API key
    becomes offline with one warning, so a run never waits on a login prompt or the network."""
    chosen = (mode or env_mode() or "online").lower()
    if chosen not in MODES:
        raise ConfigError(
            f"logger.wandb.mode={chosen!r}; expected one of {', '.join(MODES)} (or null to use "
            "WANDB_MODE)."
        )
    if chosen == "online" and not has_api_key():
        warn(
            "W&B: no API key found (WANDB_API_KEY, ~/.netrc or `wandb login`); logging offline "
            "instead. Upload the run later with `wandb sync <its offline-run-* directory>`; set "
            "logger.wandb.mode=offline to silence this message."
        )
        return "offline"
    return chosen


def warn(message: str) -> None:
    """Log ``message`` on the main process only (every process builds the logger)."""
    if rank_zero_only.rank == 0:
        log.warning(message)


def resolve_run_id(explicit: str | None, run_dir: str | Path | None, job_type: str | None) -> str:
    """The run id: explicit, else ``WANDB_RUN_ID`` (set by sweep agents), else the id stored in
    the run directory by an earlier ``fit`` (so resuming continues the same W&B run), else new.
    """
    if explicit:
        return str(explicit)
    if os.environ.get("WANDB_RUN_ID"):
        return os.environ["WANDB_RUN_ID"]
    stored = stored_run_id(run_dir) if job_type in (None, "fit") else None
    return stored or new_run_id()


def stored_run_id(run_dir: str | Path | None) -> str | None:
    """The W&B run id saved in ``run_dir``, if any."""
    if run_dir is None:
        return None
    path = Path(run_dir) / RUN_ID_FILE
    text = path.read_text().strip() if path.is_file() else ""
    return text or None


def new_run_id(length: int = 8) -> str:
    """A random run id in wandb's alphabet (lowercase letters and digits)."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
