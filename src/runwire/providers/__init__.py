"""runwire.providers"""
