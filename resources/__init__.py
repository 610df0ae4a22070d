"""meshdesk's data files: application icon, legend node shapes, style sheets.

Installed as the package ``meshdesk.resources_data`` (the top-level ``resources/`` folder is mapped
there by the build); read them through :mod:`meshdesk.resources`, never by path.
"""
