"""Open311 GeoReport v2 under /open311/v2/: plain views, one renderer for JSON and XML."""
