"""Headless subcommands of the meshdesk CLI, one module each."""
