"""Data adapters for the models: the built-in exchange's data feed, NWS forecasts, polls from CSV.

These are the only modules under console/models that touch I/O, and only thinly: each has pure
`parse_*` functions (tested on generated samples) and, where the data comes over HTTP, a small httpx
wrapper that fetches and hands the JSON to them.
"""


class SourceFormatError(ValueError):
    """A data source answered with something that is not the documented shape; says what and where."""
