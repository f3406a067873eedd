"""runwire.deploy"""
