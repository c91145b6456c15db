"""The web view: a read-only app over the same database as the command line (`tracker
serve`). ``app`` builds it, ``data`` reads what each page shows through the command
line's own functions, ``pages`` answers each route, ``templates`` and ``charts``/``svg``
draw the pages."""
