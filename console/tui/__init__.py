"""console.tui: the Textual desk (the only package that imports textual). Start it with `run_desk`."""
