"""Read-only queries and pages that aggregate across apps: community and grid pages, dashboards, reports."""
