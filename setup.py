"""Wheel builds run the asset build first, so an installed wheel serves the pages' libraries and
the minified tracker without npm on the target machine (the metadata is in pyproject.toml)."""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithAssets(build_py):
    def run(self):
        # An editable install (scripts/setup.sh) serves from the tree, which setup.sh builds itself.
        if not self.editable_mode:
            root = Path(__file__).resolve().parent
            subprocess.run(
                ["bash", str(root / "scripts" / "build-assets.sh")],
                env={**os.environ, "PYTHON": sys.executable},
                check=True,
            )
        super().run()


setup(cmdclass={"build_py": BuildWithAssets})
