"""The local runner: a supervisor with an HTTP front end, a watcher and worker pools."""
