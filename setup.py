"""Package list for setuptools: every ``meshdesk*`` package, plus ``meshdesk.resources_data``, which is the
top-level ``resources/`` folder (mapped in pyproject.toml's ``[tool.setuptools.package-dir]``).
pyproject.toml cannot combine ``packages.find`` with a mapped extra package; everything else lives there."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["meshdesk", "meshdesk.*"]) + ["meshdesk.resources_data"])
