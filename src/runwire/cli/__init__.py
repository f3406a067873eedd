"""runwire.cli"""
