"""leafletpress: approved leaflet content + a visit -> a personalised, print-ready PDF."""

__version__ = "0.1.0"
