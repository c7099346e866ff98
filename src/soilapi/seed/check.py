"""`python -m soilapi.seed.check`: validate the seed data files without a database."""

import sys
from collections import Counter

from soilapi.seed.dataset import DatasetError, load_dataset


def main() -> int:
    """Print every problem in the data files, or a summary of what they hold."""
    try:
        ds = load_dataset()
    except DatasetError as exc:
        problems = str(exc).splitlines()
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} problem(s) in the seed data", file=sys.stderr)
        return 1
    kinds = Counter(e.kind.value for e in ds.entities.values())
    for kind, count in sorted(kinds.items()):
        print(f"{kind:22} {count}")
    print(f"{'relations':22} {len(ds.relations)}")
    print(f"{'quantities':22} {len(ds.quantities)}")
    print(f"{'statements':22} {len(ds.statements)}")
    print(f"{'quality notes':22} {len(ds.notes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
