"""Import of a shop's own catalogue (CSV/XLSX) and orders (JSON Lines) into the shop store.

`python -m dianxiaoer.store import-catalogue FILE` / `import-orders FILE` (`make
import-catalogue FILE=…`, `make import-orders FILE=…`; formats in docs/import.md). Each
import reads and checks the whole file first, reporting every bad row with its line, and
writes only a file without problems, in one transaction; re-importing updates by id.
"""
