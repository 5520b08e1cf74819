"""``scrapy shell``: Scrapy's, only reading: with ``--spider daily`` too,
the archive is not opened (``parse.read_only``); a bad setting is one
line, exit status 2."""

from __future__ import annotations

import argparse

from scrapy.commands.shell import Command as ScrapyShellCommand

from digest_crawler.commands.parse import read_only


class Command(ScrapyShellCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        read_only("shell", self.settings)
