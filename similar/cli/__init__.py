"""The `similar` command line: build an index, then ask for related trials. Only calls the public API."""

from __future__ import annotations

import logging
import os
import sys
from typing import Sequence

from .. import BuildError, EmbedderError, FetchError, IndexFileError, SourceError, UnknownTrialError
from .commands import COMMANDS
from .options import make_parser

USER_ERRORS = (BuildError, EmbedderError, IndexFileError, SourceError, UnknownTrialError, ValueError, FetchError)


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    # The model loader's own weight-loading bar is noise on a query; builds keep their embedding bar.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except USER_ERRORS as error:
        print(f"similar: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("similar: interrupted; the index is as it was before", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
