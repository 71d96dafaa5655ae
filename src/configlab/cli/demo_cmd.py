"""``configlab demo``: the end-to-end SQLite demo (see :mod:`configlab.demo`)."""

from __future__ import annotations

import click

from configlab.demo import DEFAULT_SEED, run_demo


@click.command("demo")
@click.option("-o", "--out", "out_dir", default="demo-output", show_default=True,
              type=click.Path(file_okay=False), help="output directory")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="generation seed (same seed, same configs)")
@click.option("--reduced", is_flag=True, help="a few configs per suite (fast smoke run)")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="pytest-xdist workers (default 2; 1 with --reduced)")
def demo(out_dir: str, seed: int, reduced: bool, workers: int | None) -> None:
    """Run configlab end to end on SQLite and write a Markdown report with charts."""
    result = run_demo(out_dir, reduced=reduced, seed=seed, workers=workers,
                      progress=click.echo)
    click.echo(f"report: {result.report}")
