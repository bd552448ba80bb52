"""The worker: runs one function in the user's interpreter, standard library only.

Nothing here imports from `handlerlens`: the supervisor starts `__main__.py` by file path in
whatever interpreter the user chose, which may not have HandlerLens installed. Modules use
relative imports only, so the package works under any name (`_handlerlens_worker` at run time).
"""
