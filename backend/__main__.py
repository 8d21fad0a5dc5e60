"""`python -m backend export FILE.zip` / `python -m backend import FILE.zip` (data folder: STUDIO_DATA_DIR).

Export writes the whole library and history (jobs, outputs, voices, comments) as one .zip; import merges one
into this studio's data folder without duplicates. Run import while the studio is stopped."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from backend.exchange import export_zip, import_zip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("export", "import"))
    ap.add_argument("file", type=Path, help="the .zip to write or read")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("STUDIO_DATA_DIR") or "studio-data"),
                    help="the studio's data folder (default STUDIO_DATA_DIR or ./studio-data)")
    args = ap.parse_args(argv)
    if args.command == "export":
        counts = export_zip(args.data, args.file)
        print(f"exported {counts['outputs']} outputs, {counts['inputs']} inputs and {counts['meta']} records "
              f"to {args.file}")
        return 0
    if not args.file.is_file():
        print(f"import: {args.file} does not exist", file=sys.stderr)
        return 2
    try:
        got = import_zip(args.file, args.data)
    except (ValueError, OSError) as err:
        print(f"import: {err}", file=sys.stderr)
        return 2
    print(f"imported {got['files']} new files ({got['kept']} already here), {got['jobs']} jobs, "
          f"{got['voices']} voices, {got['comments']} comments into {args.data}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
