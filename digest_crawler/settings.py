# Scrapy settings for digest_crawler.
#
# Kept in the order of Scrapy's project template; every deviation from the
# template says why. Settings of our own are prefixed DIGEST_, documented in
# docs/settings.md and read and checked in one place (digest_crawler/config.py).
# https://docs.scrapy.org/en/latest/topics/settings.html

from digest_crawler import __version__
from digest_crawler.paper import PAPER_FIELDS

BOT_NAME = "digest_crawler"

SPIDER_MODULES = ["digest_crawler.spiders"]
NEWSPIDER_MODULE = "digest_crawler.spiders"

# Our commands (digest_crawler/commands/): `crawl` (bad arguments and
# settings end in one line and exit status 2 before any request; an honest
# exit status after the crawl), and `export`, `search`, `report`, `upgrade`.
COMMANDS_MODULE = "digest_crawler.commands"

# The settings that follow from our own (the API's download slot, no retry
# of a host name that does not resolve): digest_crawler/addon.py.
ADDONS = {"digest_crawler.addon.Digest": 0}

# The site, or a mirror or local server with the same paths (tests use one).
DIGEST_BASE_URL = "https://huggingface.co"
# Any SQLAlchemy URL; default: a SQLite file in the working directory.
DIGEST_DATABASE_URL = "sqlite:///papers.sqlite"
# The daily run's refresh schedule: the days before today it reads. A day's
# list fills up during that day and its upvotes move for one to two weeks:
# read at about 0, 1, 2, 3, 7 and 14 days, a day is settled after the last.
DIGEST_REFRESH = [0, 1, 2, 3, 7, 14]
# A run that reads today fails (exit status 1) when the newest digest day the
# site serves is more than this many days old: a weekend plus a holiday is not.
DIGEST_STALE_DAYS = 4
# The day a run takes as today, YYYY-MM-DD; empty: the UTC date (tests fix it).
DIGEST_TODAY = ""
# Upper bound on rows per upsert statement (a listing day has ~50 papers
# and is written in one transaction whatever this is).
DIGEST_BATCH_SIZE = 500
# Stats that make `scrapy crawl` exit with status 1 when non-zero: something
# a person should look at (a day without a digest is normal, not listed).
# (A crawl in which papers were served but none stored exits 1 as well.)
DIGEST_FAILURE_STATS = [
    "digest/stale_days",
    "digest/listings_failed",
    "digest/listings_left",
    "digest/failed_pages",
    "digest/undated_pages",
    "digest/unreadable_pages",
    "digest/parse_errors",
    "digest/storage_errors",
    "digest/raw_errors",
    "digest/adoption_failed",
    # (a rejected answer leaves its paper due, as a failed one does)
    "digest/adoption_rejected",
    "digest/adoption_left",
    "digest/ratelimit_refused",
]

# Crawl responsibly by identifying yourself: the project and its version.
USER_AGENT = f"digest_crawler/{__version__} (Hugging Face Daily Papers archiver; Scrapy)"

# Obey robots.txt rules
ROBOTSTXT_OBEY = True

# Concurrency and throttling settings
# One page at a time, at most one request per 3.5 s: the site allows
# anonymous clients 100 pages per 5-minute window (one per 3 s); we stay
# below that with margin. AutoThrottle may slow down further, never speed up.
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 3.5  # template: 1
# Even spacing: Scrapy's default jitter (0.5x-1.5x the delay) would send some
# requests closer together than the site's budget allows.
DOWNLOAD_DELAY_JITTER = 0

# Listing pages are about 0.5 MB; anything near 16 MB is not a listing.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # default 1 GiB
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024  # default 32 MiB
DOWNLOAD_TIMEOUT = 60  # default 180 s

# Before RetryMiddleware (550) sees a 429/503: wait what Retry-After and
# RateLimit say (capped), and pause when the RateLimit budget is spent.
DOWNLOADER_MIDDLEWARES = {
    # Before RetryMiddleware sees it: a certificate that fails is not retried.
    "digest_crawler.middlewares.TlsMiddleware": 555,
    "digest_crawler.middlewares.RateLimitMiddleware": 560,
    # Adds the token (if any) to requests for huggingface.co only, after
    # HttpCacheMiddleware (900) and taken off before it stores a request.
    "digest_crawler.middlewares.HubTokenMiddleware": 950,
    # The raw answers kept as WARC (digest_crawler/raw.py): each answer the
    # spider is given, once, below RetryMiddleware (550), with how it was
    # served noted before HttpCompressionMiddleware (590) decodes it.
    "digest_crawler.raw.ServedCoding": 595,
    "digest_crawler.raw.KeepAnswers": 540,
}
# Keep every answer read as WARC, in DIGEST_RAW_DIR (empty: a raw/ folder
# beside the SQLite file; in the working folder for PostgreSQL).
DIGEST_RAW_ANSWERS = True
DIGEST_RAW_DIR = ""

# Ask the Hub (/api/papers/{id}, in the API's budget) what cites each paper a
# run reads: the models, datasets and Spaces, kept with their history. The
# scheduled daily run also asks for the papers of the listing days
# DIGEST_ADOPTION_TAIL days back. False: listings only.
DIGEST_ADOPTION = True
DIGEST_ADOPTION_TAIL = [30, 60, 90, 180, 365]

# The watches scrapy watch sends (a TOML file, docs/watches.md); empty:
# watches.toml in the working folder, when there is one.
DIGEST_WATCHES = ""
DIGEST_RATELIMIT_MAX_WAIT = 300  # seconds: one 5-minute window of the site
DIGEST_RATELIMIT_STATUSES = [429, 503]
# A published RateLimit-Policy sets the pace: window/quota, plus this margin.
DIGEST_RATELIMIT_MARGIN = 0.02
# The API door's calls (-a source=api) have a budget of their own: 500 per
# 5-minute window (one per 0.6 s); until an answer publishes its policy,
# one call every 0.62 s (484 per window).
DIGEST_API_DELAY = 0.62
# A Hugging Face token raises both budgets (200 pages, 1,000 API calls). Empty:
# the HF_TOKEN environment variable, if set. Sent to huggingface.co only.
DIGEST_HF_TOKEN = ""

# Check the certificate of every https answer (pages, API calls, robots.txt)
# against the system's CA store (default False: Scrapy checks none, and the
# token would go to whoever answers for huggingface.co). A private mirror's
# CA: DIGEST_CA_BUNDLE, a PEM file trusted in place of the system's store.
DOWNLOAD_VERIFY_CERTIFICATES = True
DIGEST_CA_BUNDLE = ""

# Retry 429 and 5xx answers (Scrapy's RETRY_HTTP_CODES) a few more times.
RETRY_TIMES = 4  # default 2

# Disable cookies (enabled by default): we never log in.
COOKIES_ENABLED = False

# Disable Telnet Console (enabled by default): scheduled runs need no console.
TELNETCONSOLE_ENABLED = False
# Nor Scrapy 2.19's remote control (enabled by default): an HTTP server that
# runs Python code sent to it, with job files left in the user's home.
REMOTE_CONTROL_ENABLED = False

# Enable or disable extensions
# See https://docs.scrapy.org/en/latest/topics/extensions.html
EXTENSIONS = {
    "digest_crawler.extensions.BackfillProgress": 500,
}
# Seconds between progress log lines (0 turns them off).
DIGEST_PROGRESS_INTERVAL = 60

# Configure item pipelines
# See https://docs.scrapy.org/en/latest/topics/item-pipeline.html
ITEM_PIPELINES = {
    "digest_crawler.pipelines.ValidatePipeline": 200,
    "digest_crawler.pipelines.StoragePipeline": 400,
}

# Enable and configure the AutoThrottle extension (disabled by default)
# See https://docs.scrapy.org/en/latest/topics/autothrottle.html
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 3.5  # default 5: no slower than DOWNLOAD_DELAY to begin with

# Feeds (`-O papers.jsonl`): one record per paper of each listing, with
# exactly the public fields, in contract order.
FEED_EXPORT_FIELDS = list(PAPER_FIELDS)
FEED_EXPORTERS = {
    "json": "digest_crawler.exporters.JsonExporter",
    "jsonlines": "digest_crawler.exporters.JsonLinesExporter",
    "jsonl": "digest_crawler.exporters.JsonLinesExporter",
    "csv": "digest_crawler.exporters.CsvExporter",
    "xml": "digest_crawler.exporters.XmlExporter",
}

# The request queue stays in memory even with JOBDIR: Scrapy's disk queue
# does not survive kill -9, and the run ledger is what resumes a run.
SCHEDULER = "digest_crawler.scheduler.MemoryScheduler"

# Scheduled runs log what happened, not every item (default DEBUG logs each
# scraped item in full, abstracts included).
LOG_LEVEL = "INFO"

# Set settings whose default value is deprecated to a future-proof value
FEED_EXPORT_ENCODING = "utf-8"
