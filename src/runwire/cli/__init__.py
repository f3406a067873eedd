"""The ``runwire`` command line."""
