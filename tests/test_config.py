"""config.toml: the shipped file loads, typos and bad values are named with their key."""

import subprocess
import sys
from pathlib import Path

import pytest

from console.config import ConfigError, DeskConfig, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_loads_and_matches_defaults():
    cfg = load_config(ROOT / "config.toml")
    assert cfg.venue.name == "sim"
    assert cfg.risk.max_bankroll_share_per_market == 0.05
    assert cfg.risk.max_category_share == 0.40
    assert cfg == DeskConfig()  # the file documents the defaults, it does not drift from them


def test_unknown_key_is_an_error_naming_it():
    with pytest.raises(ConfigError) as exc:
        parse_config("[risk]\nmax_contracts_per_markt = 5\n")
    assert "[risk] max_contracts_per_markt: unknown key" in str(exc.value)


def test_bad_value_names_key_value_and_expectation():
    with pytest.raises(ConfigError) as exc:
        parse_config("[risk]\nmax_contracts_per_market = -5\n")
    text = str(exc.value)
    assert "config.toml: [risk] max_contracts_per_market = -5" in text
    assert "greater than 0" in text


def test_bad_enum_and_bad_toml():
    with pytest.raises(ConfigError, match=r"\[venue\] name = 'live'"):
        parse_config('[venue]\nname = "live"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[venue\n")


def test_config_is_frozen():
    cfg = DeskConfig()
    with pytest.raises(Exception):
        cfg.risk.daily_loss_limit_dollars = 1  # type: ignore[misc]


def test_cli_exits_2_on_bad_config(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[sim]\nspeed = 0\n")
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "--config", str(bad), "sim", "--port", "0"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2
    assert "[sim] speed = 0" in proc.stderr
