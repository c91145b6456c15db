# The tracker daemon in a container.
#
#   docker build -t tracker .
#   docker run -d --name tracker --stop-timeout 45 -v tracker-data:/data tracker
#
# With no config it runs on the defaults: SQLite in /data/tracker.db (keep /data on a
# volume) and the bundled registry. For PostgreSQL and your own config, see compose.yaml
# and the README's "Running it for real" section.

# Debian-based slim Python, the version the tests run on: the dependencies install as
# prebuilt wheels (psycopg binary included), so no compiler is needed.
FROM python:3.11-slim

# No .pyc files written at run time (the code is read-only to the tracker user anyway),
# log lines straight out, and a quiet pip (installing as root is intended here) that
# keeps no download cache in the image.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A dedicated unprivileged user with a fixed uid/gid (10001), so files on volumes and
# bind mounts have a predictable owner; /data is its home and the only place it writes.
RUN groupadd --gid 10001 tracker \
 && useradd --uid 10001 --gid tracker --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin tracker \
 && install -d -o tracker -g tracker -m 0750 /data

# The dependencies first, at the exact versions and file hashes in requirements.lock
# (docs/dependencies.md says how it is refreshed), as wheels only: the image is built
# from what was tested, whatever was released since. setuptools, which builds tracker
# below, is locked there too. A layer of its own, so a change to the code alone does not
# download them again.
COPY requirements.lock /tmp/tracker-lock/
RUN pip install --require-hashes --only-binary=:all: -r /tmp/tracker-lock/requirements.lock \
 && rm -rf /tmp/tracker-lock

# Then tracker itself from the repository, as `pip install .` reads pyproject.toml, with
# nothing more fetched: its dependencies are installed, and so is its build backend. Only
# what the package needs is copied (the readme is part of the package metadata); the
# bundled registry and the database migrations are package data and come along.
COPY pyproject.toml README.md /tmp/tracker-src/
COPY tracker /tmp/tracker-src/tracker
COPY jobs /tmp/tracker-src/jobs
COPY db /tmp/tracker-src/db
RUN pip install --no-deps --no-build-isolation /tmp/tracker-src && rm -rf /tmp/tracker-src

# Where the data go: tracker keeps its default SQLite file, tracker.db, in
# $STATE_DIRECTORY (the variable systemd sets for a service's state directory), here the
# /data volume. Every tracker process in the container sees it: the daemon, the health
# check, `docker exec ... tracker status`. The working directory is /data too. A
# ./config.toml here would be read; prefer mounting one and setting $TRACKER_CONFIG.
ENV STATE_DIRECTORY=/data
WORKDIR /data

# Everything from here on, the daemon included, runs as the tracker user, never root.
USER 10001:10001

# The web view, when the config asks the daemon to serve it ([web] serve = true). Inside
# a container it must listen on every address of the container ([web] host = "0.0.0.0")
# for a published port to reach it; publish it on the host's loopback, as
# `docker run -p 127.0.0.1:8150:8150 ...`, and put your web server in front to share it.
EXPOSE 8150

# `docker stop` sends SIGTERM: no new poll starts, the running one finishes (or is
# abandoned after 30 s) and tracker exits 0. Docker's default wait before SIGKILL is
# 10 s: give it 45 (`docker run --stop-timeout 45`, or compose's stop_grace_period).
STOPSIGNAL SIGTERM

# Health: `tracker health --quiet` exits 1, printing a PROBLEM line for each thing
# wrong, when no daemon holds the database's leader lock (the daemon died, or hangs
# before leading) or when a source group the registry uses has not polled successfully
# for three of its intervals (the scheduler hangs, or every source of the group fails);
# 0, printing nothing, otherwise. A daemon that just started has three intervals before
# its first success counts as missing; the start period covers its migrations. It runs
# as its own process, not through the ENTRYPOINT, with the container's environment: it
# finds the same database through $TRACKER_CONFIG / $TRACKER_DATABASE_URL (or the default
# SQLite file, /data/tracker.db). Docker reserves exit code 2 (bad config here), hence
# "|| exit 1". `docker inspect` shows the PROBLEM lines.
HEALTHCHECK --interval=1m --timeout=15s --start-period=2m --retries=3 \
    CMD tracker health --quiet || exit 1

# `docker run IMAGE` runs the daemon; `docker run IMAGE status` (or any other command,
# with --config PATH before it) runs that command instead.
ENTRYPOINT ["tracker"]
CMD ["run"]
