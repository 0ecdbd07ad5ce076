import csv

import pytest
from click.testing import CliRunner

from linli.core.registry import discover, linli_group
from linli.regions.models import Region
from linli.regions.tests.test_services import GOOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def linli():
    discover()
    runner = CliRunner()
    return lambda *args: runner.invoke(linli_group, list(args), catch_exceptions=False)


def test_import_then_export(linli, tmp_path):
    source = tmp_path / "regions.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = linli("regions", "import", str(source))
    assert result.exit_code == 0, result.output
    assert "6 created, 0 updated" in result.output
    target = tmp_path / "out.csv"
    result = linli("regions", "export", str(target), "--under", "990102001000")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["code"] for r in rows] == ["990102001000", "990102001001", "990102001201"]


def test_a_bad_file_lists_every_problem_and_changes_nothing(linli, tmp_path):
    source = tmp_path / "regions.csv"
    source.write_text(GOOD + "990102009001,孤儿,,community,urban,,,,\n", encoding="utf-8")
    result = linli("regions", "import", str(source))
    assert result.exit_code == 1
    assert "row 8, code: The parent region 990102009000 is neither" in result.output
    assert "nothing was changed" in result.output
    assert Region.objects.count() == 0


def test_a_file_saved_by_chinese_excel_is_read(linli, tmp_path):
    source = tmp_path / "regions.csv"
    source.write_bytes(GOOD.encode("gb18030"))
    result = linli("regions", "import", str(source))
    assert result.exit_code == 0, result.output
    assert Region.objects.get(code="990102001201").name == "新桥村"


def test_a_file_that_is_not_text_is_refused(linli, tmp_path):
    source = tmp_path / "regions.csv"
    source.write_bytes(b"\x81\x30\xff\xff" * 10)
    result = linli("regions", "import", str(source))
    assert result.exit_code == 1
    assert "neither UTF-8 nor GB18030" in result.output


def test_demo_build_and_accounts(linli):
    result = linli("demo", "build", "--scale", "small", "--seed", "3", "--quiet")
    assert result.exit_code == 0, result.output
    assert "regions, directory, accounts" in result.output
    result = linli("demo", "accounts")
    assert "demo_street_official" in result.output
    assert "linli-demo" in result.output
    assert "already built" in linli("demo", "build", "--scale", "small", "--seed", "3").output


def test_demo_accounts_before_a_build_says_what_to_do(linli):
    result = linli("demo", "accounts")
    assert result.exit_code == 1
    assert "linli demo build" in result.output
