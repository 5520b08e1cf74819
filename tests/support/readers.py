"""The reader commands (export, search, report, upgrade) run in-process as
``scrapy`` runs them: the project's settings, the command's options parsed,
then ``run``; what they print is the test's to capture (``capsys``)."""

from __future__ import annotations

import argparse
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.settings import Settings
from scrapy.utils.misc import load_object


def run_reader(name: str, *argv: str, **settings: Any) -> ScrapyCommand:
    """``scrapy NAME ARGV`` with ``settings`` (``-s``); the command, its
    ``exitcode`` set, once it has run."""
    command_class = load_object(f"digest_crawler.commands.{name}.Command")
    command: ScrapyCommand = command_class()
    command.settings = Settings()
    command.settings.setmodule("digest_crawler.settings", priority="project")
    command.settings.setdict(command.default_settings, priority="command")
    command.settings.setdict(settings, priority="cmdline")
    parser = argparse.ArgumentParser(prog=f"scrapy {name}")
    command.add_options(parser)
    opts, args = parser.parse_known_args(list(argv))
    command.process_options(args, opts)
    command.run(args, opts)
    return command
