"""console.venues.kalshi"""
