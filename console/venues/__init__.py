"""console.venues"""
