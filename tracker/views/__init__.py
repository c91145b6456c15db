"""The rows and lines each view shows (status, series, health, show), built once for the
CLI, the quick path and the digest."""
