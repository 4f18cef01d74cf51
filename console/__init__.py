"""edgedesk: a terminal trading desk for binary event contracts."""

__version__ = "0.1.0"
