"""For scrapyd-deploy, which builds the project's egg with ``setup.py``; the
package's metadata lives in pyproject.toml."""

from setuptools import setup

setup()
