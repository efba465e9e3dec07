"""MkDocs hook: fill the generated reference pages from the code, so they cannot go stale.

`<!-- generated: config-reference -->` becomes the configuration reference (from `discover._schema`,
the same schema the config loader checks keys against); `<!-- generated: cli-reference -->`
becomes every command's `--help` (from `discover.cli.build_parser`).
"""

from __future__ import annotations

import argparse


def cli_reference() -> str:
    from discover.cli import build_parser

    parser = build_parser()
    out = ["```text", parser.format_help().rstrip(), "```", ""]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        out += [f"## `discover {name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs' signature)
    if "<!-- generated: config-reference -->" in markdown:
        from discover._reference import config_reference

        markdown = markdown.replace("<!-- generated: config-reference -->", config_reference())
    if "<!-- generated: cli-reference -->" in markdown:
        markdown = markdown.replace("<!-- generated: cli-reference -->", cli_reference())
    return markdown
