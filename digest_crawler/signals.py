"""Signals between the spider and the storage pipeline.

The spider announces its plan and the fate of every day; the storage
pipeline answers and records. Neither imports the other.
"""

#: ``days`` (list of dates, oldest first) -> each receiver may return the set
#: of those days that an unfinished run with the same plan already completed,
#: which the spider then does not fetch again.
days_planned = object()

#: ``day``, ``papers`` (count), ``url``: the spider is about to yield that many
#: paper items for ``day``; once all are stored or dropped, the day is done.
page_parsed = object()

#: ``day``, ``outcome`` (``"no_digest"``, ``"failed"``), ``reason``, ``url``:
#: a day that gives no items.
day_finished = object()
