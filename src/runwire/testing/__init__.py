"""runwire.testing"""
