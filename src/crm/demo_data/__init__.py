"""Synthetic source-system extracts (docs/extracts.md) for demos, tests and benchmarks: ``crm generate``.

``crm.demo_data.generation.generate`` writes a set. This package imports nothing itself: the file
formats come from the services' specs (``files``), slow to import, and ``crm`` registers the command
(``cli``) at every start.

What a generated set promises (see ``generation`` for how):

- ``<out>/<SOURCE>/<YYYY-MM-DD>/`` per source with manifest.json and the ten CSV files, headers exactly
  the data-model field names, CRLF line ends, UTF-8 without BOM, money with two decimals (whole VND).
- ``--customers N`` is split over the chosen sources by weight (T24 65 %, W4 35 %); each customer and
  everything of theirs lives in one source. cifs ``T24C0000001`` / ``W4C0000001``; accounts ``LD…`` (T24)
  and ``CA…`` (W4); collaterals ``CL…`` / ``CD…``; payments ``FT<date>…`` / ``WP<date>…``: unique across
  sources. Customer ``T24C0000007`` is the same whatever N or the other sources.
- References: a quarter point at another customer of the same source (the row then repeats that
  customer's identity); the rest are reference-only persons with cifs ``T24R…`` / ``W4R…``, which are
  never in customers.csv and have no phone rows.
- Determinism: same arguments, same bytes, whatever ``--workers``. The base set does not depend on the
  business date (its balances and dpd are as of ``--as-of``, default ``DEFAULT_AS_OF``), except
  payments.csv, which holds that business day's payments.
- ``--changed X``: the base with exactly ``share_of(rows, X)`` rows changed per file (natural keys kept),
  except loan_collaterals.csv (key-only, never changed). So syncing ``--date D1`` and then
  ``--date D2 --changed X`` updates exactly that many rows per entity. Change sets are not cumulative.
- ``--bad X``: up to ``share_of(rows, X)`` rows per file replaced by invalid ones; ``bad_rows.json`` (not
  in the manifest) maps each file to ``[{"line", "kind", "column"}]`` with line 1 the header and kind one
  of ``BAD_KINDS``. Rows that depend on a bad customer, loan or collateral are left out, so a load rejects
  exactly the listed lines and every other row is byte for byte the base's.
"""
