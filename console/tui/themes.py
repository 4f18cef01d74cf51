"""The desk's themes: `themes/*.toml` loaded into Textual `Theme`s, and the desk's own colour variables.

Every colour on the desk goes through a theme variable: Textual's own (`$primary`, `$surface`, ...)
and the desk's (`$bid`, `$ask`, `$edge-pos`, `$edge-neg`, `$risk-ok`, `$risk-warn`, `$risk-breach`),
whose fallbacks are `VARIABLE_DEFAULTS` (the dark theme's values). A theme file names its base colours
at the top level and the desk's variables under `[variables]`; a missing or unknown key is an error
that names the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.theme import Theme

#: the repository's themes/ folder (the package is installed editable, beside it)
THEMES_DIR = Path(__file__).resolve().parents[2] / "themes"
#: the order `t` cycles through; also the names config.toml [ui] theme accepts
THEME_NAMES = ("dark", "light", "ansi", "colorblind")

VARIABLE_DEFAULTS: dict[str, str] = {
    "bid": "#3fbf7f",
    "ask": "#e0475b",
    "edge-pos": "#4fd18b",
    "edge-neg": "#f06272",
    "risk-ok": "#3fbf7f",
    "risk-warn": "#e0a030",
    "risk-breach": "#ff4d5e",
}
_BASE_KEYS = {"primary", "secondary", "accent", "warning", "error", "success", "foreground", "background",
              "surface", "panel", "boost"}
_TOP_KEYS = _BASE_KEYS | {"name", "dark", "ansi", "variables", "luminosity_spread", "text_alpha"}


class ThemeError(ValueError):
    """A theme file is missing, unreadable or has a bad key; the message names the file."""


def parse_theme(text: str, source: str) -> Theme:
    """Build a Theme from TOML text; every desk variable must be present."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise ThemeError(f"{source}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("name", "primary"):
        if not isinstance(raw.get(key), str):
            raise ThemeError(f"{source}: {key} = ...: a colour/name string is required")
    variables = raw.get("variables", {})
    missing = [name for name in VARIABLE_DEFAULTS if name not in variables]
    if missing:
        raise ThemeError(f"{source}: [variables] is missing {', '.join(missing)} (every desk colour must be set)")
    base = {key: raw[key] for key in _BASE_KEYS if key in raw}
    return Theme(name=raw["name"], dark=bool(raw.get("dark", True)), ansi=bool(raw.get("ansi", False)),
                 luminosity_spread=float(raw.get("luminosity_spread", 0.15)),
                 text_alpha=float(raw.get("text_alpha", 0.95)),
                 variables={str(k): str(v) for k, v in variables.items()}, **base)


def load_themes(folder: Path = THEMES_DIR) -> list[Theme]:
    """The desk's themes in THEME_NAMES order (each from `<name>.toml`)."""
    themes = []
    for name in THEME_NAMES:
        path = folder / f"{name}.toml"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ThemeError(f"{path}: cannot read the theme ({exc.strerror}); themes live in {folder}") from None
        theme = parse_theme(text, str(path))
        if theme.name != name:
            raise ThemeError(f"{path}: name = {theme.name!r} but the file is {name}.toml; make them agree")
        themes.append(theme)
    return themes


def next_theme(current: str) -> str:
    """The theme after `current` in THEME_NAMES (wrapping); the first one for a foreign theme."""
    if current not in THEME_NAMES:
        return THEME_NAMES[0]
    return THEME_NAMES[(THEME_NAMES.index(current) + 1) % len(THEME_NAMES)]
