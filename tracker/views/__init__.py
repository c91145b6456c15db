"""The rows and lines each view shows (status, series, show), built once for the CLI,
the quick path and the digest."""
