"""Reading the site, without a crawler: answers -> listings.

``urls`` (the base URL, where a listing is asked for, which URLs are on the
site), ``pages`` (a listing page: hydration JSON, or the cards) and ``api``
(an ``/api/daily_papers`` answer) -> ``entries`` (raw papers) -> ``loaders``
(with ``processors``: the fields of a ``Paper``); ``reading`` assembles one
``Listing`` from one or more answers and holds the rules that decide under
which period a paper is filed.
"""
