"""The engine, the venue clients and headless mode never load the TUI toolkit (DESIGN.md section 1):
importing them in a fresh interpreter leaves `textual` out of sys.modules."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["console.engine", "console.engine.kernel", "console.engine.runtime", "console.engine.io",
           "console.engine.execution", "console.engine.reconcile", "console.engine.flatten",
           "console.engine.strategies", "console.venues", "console.venues.kalshi.rest", "console.venues.kalshi.ws",
           "console.venues.paper", "console.headless"]


def test_engine_venues_and_headless_do_not_import_textual() -> None:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in MODULES)
            + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(len(sys.modules)); print(bad); sys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"textual was imported: {result.stdout} {result.stderr}"
    assert int(result.stdout.split()[0]) > 100  # the modules really were imported


def test_the_check_would_catch_textual() -> None:
    code = "import sys, console.tui.app\nprint('textual' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.strip() == "True", result.stderr
