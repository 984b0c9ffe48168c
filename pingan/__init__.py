"""pingan (平安): community and rural policing platform."""

__version__ = "0.1.0"
