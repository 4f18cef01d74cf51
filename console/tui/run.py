"""`run_desk`: what `edgedesk` (no subcommand) and `make run` do.

Build the engine from config (the built-in exchange by default: `build_engine` starts `edgedesk sim` as a
child process on 127.0.0.1), start its threads, open the desk on its `Control` at once (books appear as
soon as the engine has loaded the markets), and when the desk closes stop everything: the engine with
the exit policy (already carried out if the operator quit with `q`), its threads, the journal and the
child exchange, so nothing is left running.

While the desk owns the terminal, log records go to `desk.log` in the data directory instead of stderr,
where they would scribble over the screen.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from console.config import DeskConfig

log = logging.getLogger(__name__)
LOG_FILE = "desk.log"


def _log_to_file(path: Path) -> list[logging.Handler]:
    """Swap the root logger's stream handlers for a file handler; returns the removed handlers."""
    root = logging.getLogger()
    removed = [h for h in root.handlers if isinstance(h, logging.StreamHandler)
               and not isinstance(h, logging.FileHandler)]
    for handler in removed:
        root.removeHandler(handler)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return removed


def run_desk(config: DeskConfig, *, home: str | None = None) -> int:
    """Run the desk until the operator quits; returns the process exit status."""
    from console.engine.journal import data_dir
    from console.engine.runtime import build_engine
    from console.tui.app import EdgeDeskApp

    base = Path(home).expanduser() if home else data_dir()
    removed = _log_to_file(base / LOG_FILE)
    engine = None
    try:
        engine = build_engine(config, home=base)
        engine.start()
        app = EdgeDeskApp(engine.control, config, wait_stopped=engine.kernel.finished.wait, tune_gc=True)
        app.run()
        return int(app.return_code or 0)
    except Exception as exc:
        log.exception("the desk stopped on an error")
        print(f"edgedesk: {exc} (details in {base / LOG_FILE})", file=sys.stderr)
        return 1
    finally:
        if engine is not None:
            # after `q` the kernel has already carried out the exit policy and this only closes; after
            # anything else (a crash, the terminal closing) the policy runs here
            engine.stop()
        for handler in removed:
            logging.getLogger().addHandler(handler)
