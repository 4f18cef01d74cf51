"""The desk's screens: the main desk, the order ticket, help and the quitting screen."""
