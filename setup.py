"""Package list for setuptools: every ``meshdesk*`` package, plus ``meshdesk.resources_data``, which is the
top-level ``resources/`` folder (mapped in pyproject.toml's ``[tool.setuptools.package-dir]``).
pyproject.toml cannot combine ``packages.find`` with a mapped extra package; everything else lives there."""

from setuptools import find_packages, setup

# resources/ and its folders of images and styles are data packages (no Python in them): listed so that
# setuptools ships them rather than warning that it would drop them
DATA = ["meshdesk.resources_data"] + [f"meshdesk.resources_data.{d}" for d in ("legend", "png", "styles")]
setup(packages=find_packages(include=["meshdesk", "meshdesk.*"]) + DATA)
