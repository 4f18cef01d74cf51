"""console.venues.polymarket"""
