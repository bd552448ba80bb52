"""The engine the language server and `handlerlens check` share: above analysis and project.

- `workspace`: a workspace's functions and their problems, kept current as files change.
- `validate`: one declared function against its code (entry point, signature, response).
- `packed_code`: entry points into code that is not a folder on disk (a zip, inline source).
- `grammar`: syntax the server's Python may lack (a newer runtime's): unchecked, not wrong.
"""
