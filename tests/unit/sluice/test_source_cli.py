"""`sluice source` refuses bad input before it needs a database."""

from __future__ import annotations

from click.testing import CliRunner

from sluice.cli.main import cli

# Nothing listens on port 1: were the database reached, the error would say so instead.
NO_DATABASE = {"SLUICE_POSTGRES_WRITER_URL": "postgresql://sluice_writer:x@127.0.0.1:1/sluice"}


def test_add_names_the_unknown_spider_without_touching_the_database():
    result = CliRunner().invoke(
        cli,
        ["source", "add", "shop", "--spider", "shopping", "--start-url", "https://shop.example/"],
        env=NO_DATABASE,
    )
    assert (result.exit_code, result.output.strip()) == (
        1,
        "Error: source 'shop': unknown spider 'shopping' (Sluice's spiders: ecommerce, finance)",
    )


def test_add_without_a_start_url_says_so():
    result = CliRunner().invoke(
        cli, ["source", "add", "shop", "--spider", "ecommerce"], env=NO_DATABASE
    )
    assert "no start URL" in result.output


def test_sync_of_a_bad_file_names_the_file_without_touching_the_database(tmp_path):
    path = tmp_path / "sources.json"
    path.write_text('[{"name": "shop", "spider": "ecommerce", "start_urls": ["ftp://x/"]}]')
    result = CliRunner().invoke(cli, ["source", "sync", str(path)], env=NO_DATABASE)
    assert (
        f"{path}: nothing synced:" in result.output
        and "'ftp://x/' is not an http(s) URL" in result.output
    )
