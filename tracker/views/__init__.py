"""The rows and lines each view shows (status, series, health, show), built once for the
CLI, the lean path (tracker/quick/) and the digest."""
