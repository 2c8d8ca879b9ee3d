"""python -m ocmfleet up|down|status|demo|supervise (run from tests/; `make fleet-up`, `make fleet-down`,
`make demo-ocm`)."""

from __future__ import annotations

import argparse
import json
import sys

from . import control, supervise
from .layout import Layout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ocmfleet", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "demo", "supervise"])
    parser.add_argument("--owner-pid", type=int, help="supervise: stop once this process is gone")
    args = parser.parse_args(argv)
    layout = Layout.default()
    say = lambda text: print(text, flush=True)  # noqa: E731
    try:
        if args.command == "up":
            state = control.up(layout, say)
            say(f"fleet ready: kubeconfig {layout.kubeconfig} (contexts hub, cluster1, cluster2, cluster3); "
                f"logs in {layout.logs}; came up in {state.get('ready_after_seconds', '?')}s")
        elif args.command == "down":
            control.down(layout, say)
        elif args.command == "status":
            state = layout.read_state()
            state["running"] = control.running(layout)
            print(json.dumps(state, indent=2, sort_keys=True))
            return 0 if state["running"] else 1
        elif args.command == "demo":
            from . import demo  # noqa: PLC0415 (the demo's imports are only needed here)

            return demo.main(layout)
        else:
            return supervise.main(layout, args.owner_pid)
    except control.FleetDown as exc:
        print(f"ocmfleet: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
