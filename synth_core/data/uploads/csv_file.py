"""CSV / TSV / TXT uploads: text encoding, delimiter sniffing, a guarded ``pandas.read_csv``."""
from __future__ import annotations

import csv
import io

import pandas as pd

from ...errors import DataError
from .options import UploadOptions


def _decode_text(name: str, data: bytes, opts: UploadOptions, warnings: list[str]) -> str:
    if data[:4] in (b"PK\x03\x04",) or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:4] == b"PAR1":
        raise DataError(f"{name!r} is a binary file (ZIP, PNG or Parquet), not CSV text: give it its real extension.")
    if opts.encoding:
        try:
            return data.decode(opts.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(f"{name!r} could not be read as {opts.encoding}: {exc}. Choose another encoding, "
                            f"or leave it on automatic.") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise DataError(f"{name!r} contains NUL bytes: it is a binary file or UTF-16 without a byte-order mark. "
                        f"Save it as CSV (UTF-8).")
    try:
        return data.decode("utf-8-sig")  # utf-8, ignoring a BOM (Excel writes one)
    except UnicodeDecodeError as exc:
        # Windows-1252 (Excel's Western default, has the euro sign) if it fits, else Latin-1,
        # which maps every byte and so never fails
        try:
            text, used = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, used = data.decode("latin-1"), "Latin-1"
        warnings.append(f"{name!r} is not UTF-8 (first bad byte at position {exc.start}); read it as {used}. "
                        f"If accented characters look wrong, re-save the file as UTF-8.")
        return text


def _sniff(text: str, opts: UploadOptions) -> str:
    if opts.delimiter:
        return opts.delimiter
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or too irregular to tell: the default is right or errors clearly
        return ","


def read_csv(name: str, data: bytes, opts: UploadOptions, warnings: list[str]) -> pd.DataFrame:
    """CSV/TSV/TXT bytes -> a DataFrame (encoding and delimiter found, limits checked)."""
    text = _decode_text(name, data, opts, warnings)
    if not text.strip():
        raise DataError(f"{name!r} has no content (only whitespace): it needs a header row and data rows.")
    delim = _sniff(text, opts)
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delim, repr(delim))
    # One pass with the csv module checks the shape (ragged rows, limits, duplicate names) and
    # reports line numbers; pandas then parses the values and types.
    limit = max(opts.max_cell_chars + 1, 1024)
    old_limit = csv.field_size_limit()
    header: list[str] | None = None
    n_rows = 0
    row: list[str] = []
    row_start = last_end = 0
    try:
        csv.field_size_limit(max(old_limit, limit))
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        for row in reader:
            row_start, last_end = last_end + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line (pandas skips them too)
            if header is None:
                header = row
                if len(header) > opts.max_columns:
                    raise DataError(f"{name!r} has {len(header):,} columns; the limit is {opts.max_columns:,}. "
                                    f"Keep the columns you need (or check the delimiter: detected {shown}).")
                continue
            n_rows += 1
            if len(row) != len(header):
                raise DataError(f"{name!r}: line {reader.line_num} has {len(row)} fields but the header has "
                                f"{len(header)} (delimiter: {shown}). Fix that row, quote cells that contain "
                                f"the delimiter, or choose the delimiter yourself.")
            if n_rows > opts.max_rows:
                raise DataError(f"{name!r} has more than {opts.max_rows:,} data rows (the limit). Upload a random "
                                f"sample of the rows.")
            longest = max(map(len, row))
            if longest > opts.max_cell_chars:
                j = max(range(len(row)), key=lambda i: len(row[i]))
                raise DataError(f"{name!r}: line {reader.line_num}, column {header[j]!r} has a {longest:,}-character "
                                f"cell; the limit is {opts.max_cell_chars:,}. Shorten it or remove that column "
                                f"(free text cannot be modelled as a category anyway).")
    except csv.Error as exc:
        raise DataError(f"{name!r} is not a well-formed CSV ({exc}); check quotes and the delimiter "
                        f"(detected {shown}).") from None
    finally:
        csv.field_size_limit(old_limit)
    if row and any("\n" in cell for cell in row) and text.count('"') % 2 == 1:
        # the csv module reads an unclosed quote to the end of the file without complaint
        raise DataError(f"{name!r} has a quote (\") that is opened and never closed, near line {row_start}: the "
                        f"rest of the file was read as one cell. Close or remove that quote.")
    if header is None:
        raise DataError(f"{name!r} has no content: it needs a header row and data rows.")
    if n_rows == 0:
        raise DataError(f"{name!r} has a header ({len(header)} columns) but no data rows.")
    if n_rows < opts.min_rows:
        raise DataError(f"{name!r} has only {n_rows} data row{'s' if n_rows != 1 else ''}; at least {opts.min_rows} "
                        f"are needed (and hundreds "
                        f"to learn a distribution worth sampling).")
    names = [h.strip() for h in header]
    seen: dict[str, int] = {}
    dups = []
    for i, h in enumerate(names):
        if h and h in seen:
            dups.append(f"{h!r} (columns {seen[h] + 1} and {i + 1})")
        seen.setdefault(h, i)
    if dups:
        raise DataError(f"{name!r} has duplicate column names: {', '.join(dups)}. Rename them so every column "
                        f"is unique.")
    unnamed = [i for i, h in enumerate(names) if not h]
    for i in unnamed:
        names[i] = f"column_{i + 1}"
    if unnamed:
        warnings.append(f"{len(unnamed)} column(s) had no name and were called "
                        f"{', '.join(names[i] for i in unnamed[:5])}; a first unnamed column is often a saved "
                        f"row index: drop it in the schema if so.")
    # ';'-separated files come from locales that write decimal commas (1,5); a column that uses
    # points instead is left as text by pandas and converted back in clean_table
    decimal = "," if delim == ";" else "."
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, header=0, names=names, skip_blank_lines=True,
                         skipinitialspace=True, decimal=decimal, low_memory=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{name!r} could not be parsed as CSV ({str(exc).splitlines()[0]}); check quotes and the "
                        f"delimiter (detected {shown}).") from None
    if len(names) == 1 and n_rows > 0 and delim == ",":
        warnings.append(f"{name!r} has a single column: if it should have more, choose the delimiter yourself.")
    return df
