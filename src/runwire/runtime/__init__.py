"""runwire.runtime"""
