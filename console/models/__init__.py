"""console.models"""
