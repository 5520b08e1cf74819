"""The end-to-end baseline: a bare Scrapy spider over the same local days that
only yields the parsed hydration JSON (no loaders, no pipelines).

    scrapy runspider benchmarks/baseline_spider.py -a base=URL -a first=D -a days=N
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import scrapy


class BaselineSpider(scrapy.Spider):
    name = "baseline"
    custom_settings: ClassVar[dict[str, Any]] = {  # type: ignore[misc]
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        "DOWNLOADER_MIDDLEWARES": {},
    }

    def __init__(self, base: str, first: str, days: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base, self.first, self.count = (
            base.rstrip("/"),
            dt.date.fromisoformat(first),
            int(days),
        )

    async def start(self) -> Any:
        for n in range(self.count):
            yield scrapy.Request(f"{self.base}/papers/date/{self.first + dt.timedelta(days=n)}")

    def parse(self, response: Any) -> Iterator[dict[str, Any]]:
        props = response.xpath('//*[@data-target="DailyPapers"]/@data-props').get()
        yield from json.loads(props)["dailyPapers"]
