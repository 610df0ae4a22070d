"""Dialogs of the traffic and security actions."""
